//! Disruption messaging (F2, F3) over HTTP: from an incident, draft one message per affected
//! customer from an approved template (`POST /incidents/{id}/disruption`), let a second person
//! with `replies.approve` approve or reject the whole draft (`POST /disruptions/{id}/decision`),
//! and follow it to delivery (`GET /disruptions/{id}`).
//!
//! Nothing reaches the outbox before approval. Approval records the decision and queues every
//! customer's message in one store transaction, each under the key
//! `disruption:<id>:<customer>`, so a retried or concurrent approval queues nothing twice and
//! a restart loses nothing. Opt-outs are checked when drafting and again when approving.
//!
//! Who is in the segment, each customer's locale and text, and the fallback wording for stale
//! facts are `sb_workflow::disruption`; this file loads what those decisions need.

pub mod draft;

use crate::AppState;
use crate::api::messages::parse_id;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{
    Clock, DisruptionId, ErrorCode, IncidentStatus, NewOutboxItem, OutboxStatus, Permission,
    SystemClock,
};
use sb_store::{DisruptionRecipient, Release, StoredDisruption};
use sb_workflow::templates::TemplateState;
use serde::{Deserialize, Serialize};

/// One customer's line in a disruption: what they get, or why they get nothing.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecipientView {
    pub customer_id: String,
    pub case_id: Option<String>,
    /// The outbox target that sends it (`x`, `meta`, `smtp`, …).
    pub target: Option<String>,
    pub locale: Option<String>,
    pub template_version: Option<u32>,
    /// For callers without `personal.read`, the customer's name and handle in it are
    /// `[redacted]`.
    pub text: String,
    /// Variables that took the fallback wording (stale or missing fact).
    pub fallbacks: Vec<String>,
    /// `opted_out`, `no_channel`, `channel_not_configured` or `already_notified`.
    pub excluded: Option<String>,
    pub outbox_id: Option<String>,
    /// `pending`, `delivered` or `dead` once queued.
    pub delivery: Option<String>,
}

/// How far sending has got.
#[derive(Serialize, utoipa::ToSchema, Default)]
pub struct Progress {
    /// Customers who get a message.
    pub recipients: usize,
    /// Customers of the segment who get none.
    pub excluded: usize,
    pub queued: usize,
    pub delivered: usize,
    /// Refused for good by the platform (dead letters).
    pub failed: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DisruptionView {
    pub id: String,
    pub incident_id: String,
    /// `pending_approval`, `rejected`, `sending` (approved, not all delivered) or `sent`.
    pub status: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: sb_domain::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: sb_domain::Timestamp,
    /// Template, tone, segment, fallback wording, the facts used and every decision.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    pub progress: Progress,
    pub recipients: Vec<RecipientView>,
}

pub(crate) fn view(
    d: StoredDisruption,
    recipients: Vec<DisruptionRecipient>,
    personal: bool,
) -> DisruptionView {
    let mut progress = Progress::default();
    for r in &recipients {
        if r.excluded.is_some() {
            progress.excluded += 1;
            continue;
        }
        progress.recipients += 1;
        match r.delivery {
            Some(OutboxStatus::Pending) => progress.queued += 1,
            Some(OutboxStatus::Delivered) => progress.delivered += 1,
            Some(OutboxStatus::Dead) => progress.failed += 1,
            None => {}
        }
    }
    let status = match d.status.as_str() {
        "approved" if progress.queued == 0 => "sent",
        "approved" => "sending",
        other => other,
    }
    .to_owned();
    let recipients = recipients
        .into_iter()
        .map(|r| RecipientView {
            customer_id: r.customer_id.to_string(),
            case_id: r.case_id.map(|c| c.to_string()),
            target: r.target,
            locale: r.locale,
            template_version: r.template_version,
            text: if personal { r.text } else { r.preview },
            fallbacks: r.fallbacks,
            excluded: r.excluded,
            outbox_id: r.outbox_id.map(|o| o.to_string()),
            delivery: r.delivery.map(|s| s.as_str().to_owned()),
        })
        .collect();
    DisruptionView {
        id: d.id.to_string(),
        incident_id: d.incident_id.to_string(),
        status,
        created_by: d.created_by,
        created_at: d.created_at,
        updated_at: d.updated_at,
        record: d.doc,
        progress,
        recipients,
    }
}

async fn load(state: &AppState, id: &str) -> Result<StoredDisruption, Problem> {
    let id = parse_id(id, DisruptionId::parse, "disruption")?;
    state
        .store
        .disruption(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no disruption `{id}`")))
}

#[utoipa::path(
    get, path = "/api/v1/disruptions/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Disruption id")),
    responses(
        (status = 200, description = "The disruption: who gets what, who is left out and why, decisions and delivery progress", body = DisruptionView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<DisruptionView>, Problem> {
    let d = load(&state, &id).await?;
    let recipients = state.store.disruption_recipients(&d.id).await?;
    Ok(Json(view(d, recipients, who.can(Permission::PersonalRead))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum DecisionRequest {
    /// Queue every customer's message.
    Approve,
    /// Send nothing; the reason is recorded.
    Reject { reason: String },
}

#[utoipa::path(
    post, path = "/api/v1/disruptions/{id}/decision", tag = "incidents",
    params(("id" = String, Path, description = "Disruption id")),
    request_body(content = Object, description = "`{\"decision\": \"approve\"}` or `{\"decision\": \"reject\", \"reason\"}`"),
    responses(
        (status = 200, description = "Decided; approved messages are in the outbox and the incident's timeline records them (`message_sent`)", body = DisruptionView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`own_disruption`: nobody approves their own draft", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`already_decided`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty reason (`invalid_field`), a closed incident (`incident_closed`), or a template version retired since the draft (`template_not_approved`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn decision(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<DisruptionView>, Problem> {
    let req: DecisionRequest = crate::body::json_as(
        raw,
        "{\"decision\": \"approve\"} or {\"decision\": \"reject\", \"reason\"}",
    )?;
    let mut d = load(&state, &id).await?;
    if d.status != "pending_approval" {
        return Err(already_decided(&d.status));
    }
    if who.actor == d.created_by {
        return Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "own_disruption",
            format!(
                "`{}` drafted this disruption and cannot decide on it; another person must",
                who.actor
            ),
        ));
    }
    let now = SystemClock.now();
    let expected = d.version;
    let mut record = serde_json::json!({ "by": who.actor, "role": who.role.as_str(), "at": now });
    let (releases, excluded) = match &req {
        DecisionRequest::Reject { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(
                    Problem::new(ErrorCode::InvalidField, "a rejection needs a `reason`")
                        .with_field("reason"),
                );
            }
            d.status = "rejected".into();
            record["outcome"] = "rejected".into();
            record["reason"] = reason.into();
            (Vec::new(), Vec::new())
        }
        DecisionRequest::Approve => {
            let (releases, excluded) = releases(&state, &d).await?;
            d.status = "approved".into();
            record["outcome"] = "approved".into();
            record["queued"] = releases.len().into();
            record["opted_out_since_draft"] = excluded.len().into();
            (releases, excluded)
        }
    };
    if let Some(list) = d.doc["decisions"].as_array_mut() {
        list.push(record);
    } else {
        d.doc["decisions"] = serde_json::json!([record]);
    }
    if !state
        .store
        .decide_disruption(&d, expected, &releases, &excluded, now)
        .await?
    {
        return Err(already_decided("decided by someone else meanwhile"));
    }
    if d.status == "approved" {
        metrics::counter!("switchboard_disruption_messages_total").increment(releases.len() as u64);
        let text = format!(
            "disruption {}: {} customer message(s) queued from template `{}`, approved by {}",
            d.id,
            releases.len(),
            d.doc["template"].as_str().unwrap_or_default(),
            who.actor
        );
        let actor = who.actor.clone();
        let recorded = super::incidents::change(&state, d.incident_id.as_str(), |i| {
            i.message_sent(&text, &actor, SystemClock.now())
        })
        .await;
        if let Err(e) = recorded {
            // The messages are queued whatever the timeline says; the audit entry and the
            // disruption's own record keep the decision.
            tracing::warn!(disruption = %d.id, error = ?e, "could not record the sending on the incident");
        }
        // H4: each case drawn into a variant records it, as a reply from the template does.
        let now = SystemClock.now();
        for r in &releases {
            let Some(case) = r.item.subject.as_deref().and_then(sb_domain::CaseId::parse) else {
                continue;
            };
            let Some((variant, template)) = experiment_variant(&state, &d, Some(&case)) else {
                continue;
            };
            let data = serde_json::json!({
                "experiment": d.doc["experiment"]["name"],
                "variant": variant,
                "template_key": template,
                "disruption_id": d.id.to_string(),
            });
            let done = state
                .casework
                .update(&case, &who.actor, false, |edit| {
                    edit.event("experiment.assigned", now, data.clone());
                    Ok(())
                })
                .await;
            if let Err(e) = done {
                tracing::warn!(case = %case, error = ?e, "could not record the experiment variant");
            }
        }
    }
    let stored = load(&state, &id).await?;
    let recipients = state.store.disruption_recipients(&stored.id).await?;
    Ok(Json(view(
        stored,
        recipients,
        who.can(Permission::PersonalRead),
    )))
}

fn already_decided(status: &str) -> Problem {
    Problem::custom(
        StatusCode::CONFLICT,
        "already_decided",
        format!("the disruption is already {status}"),
    )
}

/// What approving queues: every recipient still reachable, minus those who opted out since
/// the draft. Refuses when the incident is closed or a template version used was retired.
async fn releases(
    state: &AppState,
    d: &StoredDisruption,
) -> Result<(Vec<Release>, Vec<(sb_domain::CustomerId, String)>), Problem> {
    let (incident, _) = state
        .store
        .incident(&d.incident_id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no incident `{}`", d.incident_id)))?;
    if incident.status == IncidentStatus::Closed {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "incident_closed",
            "the incident is closed; nothing is sent about it any more",
        ));
    }
    let chosen = d.doc["template"].as_str().unwrap_or_default();
    let mut versions_by_key = std::collections::BTreeMap::new();
    let recipients = state.store.disruption_recipients(&d.id).await?;
    let mut releases = Vec::new();
    let mut excluded = Vec::new();
    for r in recipients.into_iter().filter(|r| r.excluded.is_none()) {
        // A recipient drawn into an experiment's variant got that variant's template.
        let key = experiment_variant(state, d, r.case_id.as_ref())
            .map_or_else(|| chosen.to_owned(), |(_, template)| template);
        if !versions_by_key.contains_key(&key) {
            let found = crate::api::templates::versions_of(state, &key).await?;
            versions_by_key.insert(key.clone(), found);
        }
        let versions = &versions_by_key[&key];
        let still_approved = versions
            .iter()
            .any(|v| Some(v.version) == r.template_version && v.state == TemplateState::Approved);
        if !still_approved {
            return Err(Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template_not_approved",
                format!(
                    "template `{key}` v{} is no longer approved; draft the disruption again",
                    r.template_version.unwrap_or_default()
                ),
            ));
        }
        let platform = r.payload["platform"].as_str().unwrap_or_default();
        if crate::api::privacy::opted_out(state, &r.customer_id, platform).await? {
            excluded.push((r.customer_id, "opted_out".to_owned()));
            continue;
        }
        let subject = r.case_id.as_ref().map_or_else(
            || r.customer_id.to_string(),
            std::string::ToString::to_string,
        );
        releases.push(Release {
            item: NewOutboxItem {
                target: r.target.clone().unwrap_or_default(),
                dedup_key: format!("disruption:{}:{}", d.id, r.customer_id),
                payload: r.payload.clone(),
                subject: Some(subject),
            },
            customer_id: r.customer_id,
        });
    }
    Ok((releases, excluded))
}

/// The variant (name, template) a disruption's recipient case was drawn into, when the
/// draft ran an experiment that is still configured.
fn experiment_variant(
    state: &AppState,
    d: &StoredDisruption,
    case: Option<&sb_domain::CaseId>,
) -> Option<(String, String)> {
    let name = d.doc["experiment"]["name"].as_str()?;
    let variant = d.doc["experiment"]["variants"][case?.as_str()].as_str()?;
    let workflow = state.casework.workflow();
    let e = workflow.experiments.named(name)?;
    let v = e.variants.iter().find(|v| v.name == variant)?;
    Some((v.name.clone(), v.template.clone()))
}
