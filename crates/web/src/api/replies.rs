//! Replies to customers: stored in the outbox before anything is sent, then delivered by the
//! dispatcher through the platform's connector (Meta, X, LinkedIn, TikTok, e-mail over SMTP).
//! A reply answers the case's latest customer message where it was written — publicly under
//! the comment or post, privately by DM, or by e-mail in the same thread — and can move a
//! public thread private: a short public answer plus a DM, in one action (A6).

use crate::AppState;
use crate::api::messages::parse_id;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseId, ErrorCode, Message, MessageKind, NewOutboxItem, Visibility};
use sb_outbound::{Payload, Reply, ReplyKind};
use sb_store::StoredReply;
use sb_workflow::approvals::ReplyFacts;
use serde::{Deserialize, Serialize};

/// Longest reply text accepted; platforms with shorter limits refuse longer ones, which then
/// show on the case as dead letters.
pub const MAX_REPLY_CHARS: usize = 8_000;

/// Said publicly when a thread moves to private messages, unless the request says otherwise.
pub const DEFAULT_MOVE_NOTE: &str =
    "We have sent you a private message so we can look into this with your details.";

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReplyRequest {
    /// What to say; or name an approved `template` instead (exactly one of the two).
    pub text: Option<String>,
    /// Rendered on the server for the case, as `POST /cases/{id}/render` renders it; the reply
    /// records the template's key and version.
    pub template: Option<crate::api::templates::TemplateChoice>,
    /// `public` (under the comment or post) or `private` (a DM). Defaults to where the
    /// customer wrote.
    pub visibility: Option<String>,
    /// Move a public thread private: `text` goes by DM, and this short note (or a default)
    /// is posted publicly.
    #[serde(default)]
    pub move_to_private: bool,
    pub public_note: Option<String>,
    /// Refuse (`422 reply_contradicts_status`) instead of warning when the text contradicts
    /// the operational status feed.
    #[serde(default)]
    pub strict: bool,
    /// Sent by automation (a bot, an auto-acknowledgement): it never fulfils an SLA response
    /// target, and it is refused (`409 opted_out`) when the customer opted out of automated
    /// messages on the channel.
    #[serde(default)]
    pub automated: bool,
    /// A public update about an operational problem: waits for an `operations` approver.
    #[serde(default)]
    pub operational_update: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueuedReply {
    pub outbox_id: String,
    /// `dm`, `comment_reply` or `post_reply`.
    pub kind: String,
    /// True when this `Idempotency-Key` was already used: nothing new was queued.
    pub duplicate: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplyResponse {
    /// The reply's id; its history is at `/api/v1/replies/{id}`.
    pub reply_id: String,
    /// `queued` (in the outbox) or `pending_approval` (nothing is sent until an approver
    /// releases it).
    pub status: String,
    /// Why it waits for approval, and who may approve.
    #[schema(value_type = Vec<Object>)]
    pub requirements: Vec<sb_workflow::approvals::Requirement>,
    pub items: Vec<QueuedReply>,
    /// Claims in the text that the operational status feed contradicts, or that rest on a
    /// stale fact (F4). The reply is queued anyway unless `strict` was set.
    pub warnings: Vec<ClaimWarning>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClaimWarning {
    /// `contradicts_inventory`, `contradicts_service_status`, `contradicts_delivery_delay`
    /// or `stale_fact`.
    pub code: String,
    pub subject: String,
    pub detail: String,
}

const AVAILABILITY_CLAIMS: &[&str] = &[
    "in stock",
    "back in stock",
    "available",
    "ships today",
    "ready to ship",
    "en stock",
    "disponible",
    "auf lager",
    "verfügbar",
    "em estoque",
    "disponibile",
    "op voorraad",
];
const SERVICE_CLAIMS: &[&str] = &[
    "back up",
    "working again",
    "resolved",
    "fixed",
    "fully operational",
    "no issues",
    "no outage",
    "up and running",
];
const DELIVERY_CLAIMS: &[&str] = &[
    "on time",
    "no delay",
    "arrive today",
    "arrive tomorrow",
    "delivered today",
    "delivered tomorrow",
    "arrives tomorrow",
    "arrives today",
];

/// Checks what a reply states against the operational facts for the customer's region (and
/// facts for everywhere). Pure: facts and time are handed in.
pub fn check_claims(
    text: &str,
    region: Option<&str>,
    facts: &[sb_domain::OpsFact],
    now: sb_domain::Timestamp,
    stale_after_secs: i64,
) -> Vec<ClaimWarning> {
    use sb_domain::FactKind;
    let lower = text.to_lowercase();
    let claims = |list: &[&str]| list.iter().any(|c| lower.contains(c));
    let mut out = Vec::new();
    for f in facts {
        let applies = f.region == "*" || region.is_some_and(|r| r.eq_ignore_ascii_case(&f.region));
        if !applies || !lower.contains(&f.subject.to_lowercase()) {
            continue;
        }
        let (claimed, contradicted, code) = match f.kind {
            FactKind::Inventory => (
                claims(AVAILABILITY_CLAIMS),
                f.value["available"].as_u64() == Some(0),
                "contradicts_inventory",
            ),
            FactKind::ServiceStatus => (
                claims(SERVICE_CLAIMS),
                f.value["status"].as_str() != Some("operational"),
                "contradicts_service_status",
            ),
            FactKind::DeliveryDelay => (
                claims(DELIVERY_CLAIMS),
                f.value["delay_hours"].as_f64().is_some_and(|h| h > 0.0),
                "contradicts_delivery_delay",
            ),
        };
        if !claimed {
            continue;
        }
        let stated = format!(
            "{} says {} for {} in {} (observed {} s ago by {})",
            f.kind.as_str(),
            f.value,
            f.subject,
            f.region,
            f.age_secs(now),
            f.source
        );
        if f.is_stale(now, stale_after_secs) {
            out.push(ClaimWarning {
                code: "stale_fact".into(),
                subject: f.subject.clone(),
                detail: format!("the latest fact is stale: {stated}"),
            });
        } else if contradicted {
            out.push(ClaimWarning {
                code: code.into(),
                subject: f.subject.clone(),
                detail: stated,
            });
        }
    }
    out
}

fn refuse(code: &str, detail: impl Into<String>) -> Problem {
    Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/replies", tag = "cases",
    params(
        ("id" = String, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Resending with the same key queues nothing new"),
    ),
    request_body = ReplyRequest,
    responses(
        (status = 202, description = "Stored in the outbox; the dispatcher sends it", body = ReplyResponse),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "No connector is configured to send on this platform (`reply_channel_not_configured`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long (`invalid_field`), a platform replies cannot reach (`reply_channel_unsupported`: chat, reviews, generic), a public reply to a private conversation (`reply_visibility_unavailable`), or a `template` without an approved version (`template_not_approved`) or with variables nobody supplied (`template_variable_missing`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReplyResponse>), Problem> {
    let case_id = parse_id(&id, CaseId::parse, "case")?;
    let req: ReplyRequest = crate::body::json_as(
        body,
        "{\"text\" | \"template\", \"visibility\"?, \"move_to_private\"?}",
    )?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map_or_else(|| ulid::Ulid::generate().to_string(), str::to_owned);
    let answer = send(&state, &who.actor, case_id, &req, &key).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Checks, renders, plans and queues (or holds for approval) one reply to a case, as
/// `actor`. `key` makes a repeated request queue nothing new. Shared by the API and by
/// automatic replies that rules request.
pub(crate) async fn send(
    state: &AppState,
    actor: &str,
    case_id: CaseId,
    req: &ReplyRequest,
    key: &str,
) -> Result<ReplyResponse, Problem> {
    let state = state.clone();
    if req.text.is_some() == req.template.is_some() {
        return Err(Problem::new(
            ErrorCode::InvalidBody,
            "give exactly one of `text` and `template`",
        ));
    }
    let checked = |text: &str| {
        if text.is_empty() || text.chars().count() > MAX_REPLY_CHARS {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                format!("`text` must be 1 to {MAX_REPLY_CHARS} characters"),
            )
            .with_field("text"));
        }
        Ok(())
    };
    if let Some(text) = &req.text {
        checked(text.trim())?;
    }
    let Some(case) = state.store.case(&case_id).await? else {
        return Err(Problem::not_found(format!("no case `{case_id}`")));
    };
    let rendered = match &req.template {
        Some(choice) => {
            Some(crate::api::templates::render_for_case(&state, &case, choice, true).await?)
        }
        None => None,
    };
    let text = match &rendered {
        Some(r) => {
            checked(r.text.trim())?;
            r.text.trim()
        }
        None => req.text.as_deref().unwrap_or_default().trim(),
    };
    let messages = state.store.case_messages(&case_id).await?;
    let last = messages
        .iter()
        .rev()
        .find(|m| m.removed_at.is_none())
        .or(messages.last())
        .ok_or_else(|| Problem::not_found(format!("case `{case_id}` has no message")))?;
    let target = match last.source.as_str() {
        "facebook" | "instagram" => "meta",
        "x" => "x",
        "linkedin" => "linkedin",
        "tiktok" => "tiktok",
        "email" => "smtp",
        other => {
            return Err(refuse(
                "reply_channel_unsupported",
                format!("replies on `{other}` cannot be sent from Switchboard yet"),
            ));
        }
    };
    if !state.outbound_targets.iter().any(|t| t == target) {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "reply_channel_not_configured",
            format!("no `[outbound.{target}]` connector is configured on this server"),
        ));
    }
    let raw = state.store.message_raw(&last.id).await?.unwrap_or_default();
    let plan = plan_replies(last, &raw, req, text)?;
    let now = sb_domain::Clock::now(&sb_domain::SystemClock);
    let facts = state.store.facts(None, None, None).await?;
    let warnings = check_claims(
        text,
        last.region.as_deref(),
        &facts,
        now,
        state.status_stale_after_secs,
    );
    if req.strict && !warnings.is_empty() {
        let details: Vec<String> = warnings.iter().map(|w| w.detail.clone()).collect();
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reply_contradicts_status",
            format!(
                "the reply contradicts the status feed: {}",
                details.join("; ")
            ),
        ));
    }
    let flow = state.casework.clone();
    let wf = flow.workflow();
    let products = sb_pipeline::casework::facts::products(&case.tags);
    let violations = wf.guardrails.check(text, &products);
    if let Some(v) = violations.first() {
        return Err(refuse(
            "guardrail_violation",
            format!(
                "blocked before sending: `{}` is not allowed in replies about {}: {}",
                v.phrase, v.product, v.reason
            ),
        ));
    }
    let posted_publicly = plan
        .iter()
        .any(|r| matches!(r.kind, ReplyKind::CommentReply | ReplyKind::PostReply));
    let required_by_rule = case
        .tags
        .iter()
        .find_map(|t| t.strip_prefix(sb_pipeline::casework::APPROVAL_TAG_PREFIX));
    let requirements = wf.approvals.requirements(&ReplyFacts {
        text,
        public: posted_publicly,
        operational_update: req.operational_update,
        required_by_rule,
    });
    if !warnings.is_empty() {
        metrics::counter!("switchboard_reply_claim_warnings_total")
            .increment(warnings.len() as u64);
    }
    let automated = req.automated;
    // While automation is paused (D9), an automated reply is not sent: a person takes the case.
    if automated {
        let verdict = crate::api::automation::verdict(&state).await?;
        if let Some(reason) = verdict.reason {
            let now = sb_domain::Clock::now(&sb_domain::SystemClock);
            state
                .casework
                .update(&case_id, actor, false, |edit| {
                    edit.add_tag("handed-to-human", now);
                    edit.event(
                        "automation.paused",
                        now,
                        serde_json::json!({ "reason": reason }),
                    );
                    Ok(())
                })
                .await?;
            return Err(Problem::custom(
                StatusCode::CONFLICT,
                "automation_paused",
                format!("automated replies are paused: {reason}; the case was handed to a person"),
            ));
        }
    }
    // Automated outreach honours the customer's opt-out on this channel (G6).
    if automated
        && crate::api::privacy::opted_out(&state, &case.customer_id, last.source.as_str()).await?
    {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "opted_out",
            format!(
                "the customer opted out of automated messages on {}; a person may still reply",
                last.source.as_str()
            ),
        ));
    }
    let reply_id = format!("rp_{}", ulid::Ulid::generate());
    let pending = !requirements.is_empty();
    let mut reply = StoredReply {
        id: reply_id.clone(),
        case_id: case_id.clone(),
        author: actor.to_owned(),
        automated,
        status: if pending {
            "pending_approval"
        } else {
            "queued"
        }
        .into(),
        doc: serde_json::json!({
            "target": target,
            "key": key,
            "text": text,
            "template_key": rendered.as_ref().map(|r| &r.key),
            "template_version": rendered.as_ref().map(|r| r.version),
            "experiment": rendered.as_ref().and_then(|r| r.experiment.as_ref()),
            "versions": [{ "text": text, "by": actor, "at": now }],
            "plan": plan,
            "requirements": requirements,
            "decisions": [],
            "outbox": [],
        }),
        created_at: now,
        updated_at: now,
        version: 0,
    };
    if pending {
        state.store.insert_reply(&reply).await?;
        let reasons: Vec<&str> = requirements.iter().map(|r| r.reason.as_str()).collect();
        flow.update(&case_id, actor, false, |edit| {
            edit.event(
                "reply.pending_approval",
                now,
                serde_json::json!({ "reply_id": reply_id, "reasons": reasons }),
            );
            Ok(())
        })
        .await?;
        return Ok(ReplyResponse {
            reply_id,
            status: reply.status,
            requirements,
            items: Vec::new(),
            warnings,
        });
    }
    let items = release(&state, &mut reply, &plan, true, now).await?;
    Ok(ReplyResponse {
        reply_id,
        status: reply.status,
        requirements,
        items,
        warnings,
    })
}

/// Queues a reply's messages in the outbox, records the reply (`new`: not stored yet), and
/// tells the case: a human's reply answers the customer (SLA), an automated one does not.
pub(crate) async fn release(
    state: &AppState,
    reply: &mut StoredReply,
    plan: &[Reply],
    new: bool,
    now: sb_domain::Timestamp,
) -> Result<Vec<QueuedReply>, Problem> {
    let case_id = reply.case_id.clone();
    let target = reply.doc["target"].as_str().unwrap_or_default().to_owned();
    let key = reply.doc["key"].as_str().unwrap_or_default().to_owned();
    let items: Vec<NewOutboxItem> = plan
        .iter()
        .enumerate()
        .map(|(i, r)| NewOutboxItem {
            target: target.clone(),
            dedup_key: format!("reply:{case_id}:{key}:{i}"),
            payload: serde_json::to_value(Payload::Reply(r.clone())).unwrap_or_default(),
            subject: Some(case_id.to_string()),
        })
        .collect();
    let stored = state.store.enqueue(&items, now).await?;
    let fresh = stored.iter().any(|(_, duplicate)| !duplicate);
    let queued: Vec<QueuedReply> = stored
        .into_iter()
        .zip(plan)
        .map(|((id, duplicate), r)| QueuedReply {
            outbox_id: id.to_string(),
            kind: kind_name(r.kind).to_owned(),
            duplicate,
        })
        .collect();
    if !fresh {
        // The same request again (same Idempotency-Key): it was recorded the first time.
        return Ok(queued);
    }
    reply.status = "queued".into();
    reply.doc["outbox"] =
        serde_json::json!(queued.iter().map(|q| &q.outbox_id).collect::<Vec<_>>());
    if new {
        state.store.insert_reply(reply).await?;
    } else if !state.store.update_reply(reply, now).await? {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "reply_changed",
            "the reply was decided by someone else meanwhile",
        ));
    }
    let human = !reply.automated;
    let kinds: Vec<&str> = queued.iter().map(|q| q.kind.as_str()).collect();
    let author = reply.author.clone();
    let reply_id = reply.id.clone();
    let experiment = reply.doc["experiment"].clone();
    let template_key = reply.doc["template_key"].clone();
    state
        .casework
        .update(&case_id, &author, false, |edit| {
            edit.replied(human, true, now);
            edit.event(
                "reply",
                now,
                serde_json::json!({ "reply_id": reply_id, "automated": !human, "kinds": kinds }),
            );
            // H4: the case got this variant; outcomes count from its first assignment.
            if let Some(name) = experiment["name"].as_str() {
                edit.event(
                    "experiment.assigned",
                    now,
                    serde_json::json!({
                        "experiment": name,
                        "variant": experiment["variant"],
                        "template_key": template_key,
                        "reply_id": reply_id,
                    }),
                );
            }
            Ok(())
        })
        .await?;
    metrics::counter!("switchboard_replies_total", "automated" => if human { "false" } else { "true" })
        .increment(1);
    Ok(queued)
}

fn kind_name(k: ReplyKind) -> &'static str {
    match k {
        ReplyKind::Dm => "dm",
        ReplyKind::CommentReply => "comment_reply",
        ReplyKind::PostReply => "post_reply",
        ReplyKind::Email => "email",
    }
}

/// The replies one request sends, answering `last` (the customer's latest message) whose
/// platform fields are in `raw`.
fn plan_replies(
    last: &Message,
    raw: &serde_json::Value,
    req: &ReplyRequest,
    text: &str,
) -> Result<Vec<Reply>, Problem> {
    let account = raw["account"]
        .as_str()
        .map_or_else(|| last.channel.clone(), str::to_owned);
    let recipient = raw["author_id"]
        .as_str()
        .map_or_else(|| last.author.handle.clone(), str::to_owned);
    let written_privately = last.visibility == Visibility::Private || last.kind == MessageKind::Dm;
    // The post a comment belongs to, where the platform needs it (LinkedIn, TikTok).
    let context = ["post_id", "video_id"]
        .iter()
        .find_map(|k| raw[*k].as_str())
        .map(str::to_owned);
    let dm = |t: &str| Reply {
        platform: last.source.as_str().to_owned(),
        kind: ReplyKind::Dm,
        account: account.clone(),
        recipient: Some(recipient.clone()),
        in_reply_to: None,
        text: t.to_owned(),
        context: None,
        subject: None,
        references: Vec::new(),
    };
    if last.source.as_str() == "email" {
        if req.move_to_private || req.visibility.as_deref() == Some("public") {
            return Err(refuse(
                "reply_visibility_unavailable",
                "an e-mail conversation is private",
            ));
        }
        // A key made from the content (no Message-ID) is not something to thread on.
        let message_id = Some(last.external_id.clone()).filter(|id| !id.starts_with("sha256:"));
        let references = raw["email"]["references"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(vec![Reply {
            platform: "email".into(),
            kind: ReplyKind::Email,
            account: last.channel.clone(),
            recipient: Some(last.author.handle.clone()),
            in_reply_to: message_id,
            text: text.to_owned(),
            context: None,
            subject: raw["email"]["subject"].as_str().map(str::to_owned),
            references,
        }]);
    }
    let public = |t: &str| Reply {
        platform: last.source.as_str().to_owned(),
        kind: if last.source.as_str() == "x" {
            ReplyKind::PostReply
        } else {
            ReplyKind::CommentReply
        },
        account: account.clone(),
        recipient: None,
        in_reply_to: Some(last.external_id.clone()),
        text: t.to_owned(),
        context: context.clone(),
        subject: None,
        references: Vec::new(),
    };
    if req.move_to_private {
        if written_privately {
            return Err(refuse(
                "reply_visibility_unavailable",
                "the conversation is already private",
            ));
        }
        let note = req
            .public_note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(DEFAULT_MOVE_NOTE);
        return Ok(vec![public(note), dm(text)]);
    }
    let default = if written_privately {
        "private"
    } else {
        "public"
    };
    match req.visibility.as_deref().unwrap_or(default) {
        "private" => Ok(vec![dm(text)]),
        "public" if written_privately => Err(refuse(
            "reply_visibility_unavailable",
            "the customer wrote privately; a public reply would disclose the conversation",
        )),
        "public" => Ok(vec![public(text)]),
        other => Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`visibility` must be `public` or `private`, not `{other}`"),
        )
        .with_field("visibility")),
    }
}
