//! Drafting a disruption message from an incident: the segment's customers, each one's
//! channel, opt-out, locale and text, and the operational facts the texts rest on.

use super::{DisruptionView, view};
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
    Clock, Customer, DisruptionId, ErrorCode, Incident, IncidentId, IncidentStatus, OpsFact,
    Permission, SystemClock, Tier, Timestamp,
};
use sb_outbound::{Payload, Reply, ReplyKind};
use sb_store::{AudienceCandidate, AudienceQuery, DisruptionRecipient, Reach, StoredDisruption};
use sb_workflow::disruption::{
    Exclusion, MAX_AUDIENCE, Segment, customer_locale, fill, target_for,
};
use sb_workflow::templates::{CompiledBody, TemplateState, TemplateVersion, Variables};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    /// Customers in any of these regions.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Customers with an open case mentioning any of these products or watched terms (in a
    /// message or a `product:` tag).
    #[serde(default)]
    pub about: Vec<String>,
    /// `standard`, `premium`, `vip`; empty is every tier.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Only customers whose lifetime value is at least this.
    pub min_value: Option<f64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The template's key; only approved versions are used, in each customer's locale or its
    /// fallback.
    pub template: String,
    /// Preferred tone; `neutral`, then any tone in the customer's language otherwise.
    pub tone: Option<String>,
    pub segment: SegmentRequest,
    /// Wording for a variable whose fact is stale or missing, e.g.
    /// `{"status.X200": "we will update you as soon as we know more"}`.
    #[serde(default)]
    pub fallbacks: BTreeMap<String, String>,
    /// Values every message shares (`{"recall.url": "https://…"}`); they win over the
    /// customer's and the incident's.
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Map<String, Value>>,
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn refuse(code: &str, detail: impl Into<String>) -> Problem {
    Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
}

fn segment(req: &SegmentRequest) -> Result<Segment, Problem> {
    let clean = |v: &[String]| -> Vec<String> { v.iter().map(|s| s.trim().to_owned()).collect() };
    let tiers = req
        .tiers
        .iter()
        .map(|t| {
            Tier::parse(t.trim()).ok_or_else(|| {
                invalid(
                    "segment.tiers",
                    format!("`{t}` is not a tier: standard, premium or vip"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let s = Segment {
        regions: clean(&req.regions),
        about: clean(&req.about),
        tiers,
        min_value: req.min_value,
    };
    s.validate()
        .map_err(|e| invalid("segment", e.to_string()))?;
    Ok(s)
}

#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/disruption", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = DraftRequest,
    responses(
        (status = 201, description = "The draft, waiting for approval: every customer of the segment with their text, or why they get none, and the facts used", body = DisruptionView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such incident or template", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad segment (`invalid_field`), a closed incident (`incident_closed`), no approved version (`template_not_approved`), a variable nobody supplied (`template_variable_missing`), nobody to send to (`disruption_no_recipients`) or too many (`disruption_audience_too_large`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn draft(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<DisruptionView>), Problem> {
    let req: DraftRequest = crate::body::json_as(
        raw,
        "{\"template\", \"segment\": {\"regions\"?, \"about\"?, \"tiers\"?, \"min_value\"?}, \"tone\"?, \"fallbacks\"?, \"variables\"?}",
    )?;
    let key = req.template.trim();
    if key.is_empty() {
        return Err(
            Problem::new(ErrorCode::MissingField, "`template` is required").with_field("template"),
        );
    }
    let segment = segment(&req.segment)?;
    let incident_id = parse_id(&id, IncidentId::parse, "incident")?;
    let (incident, _) = state
        .store
        .incident(&incident_id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no incident `{incident_id}`")))?;
    if incident.status == IncidentStatus::Closed {
        return Err(refuse(
            "incident_closed",
            "the incident is closed; nothing is sent about it any more",
        ));
    }
    let versions = crate::api::templates::versions_of(&state, key).await?;
    if versions.is_empty() {
        return Err(Problem::not_found(format!("no template `{key}`")));
    }
    if !versions.iter().any(|v| v.state == TemplateState::Approved) {
        return Err(refuse(
            "template_not_approved",
            format!("template `{key}` has no approved version"),
        ));
    }
    let candidates = state
        .store
        .audience(&AudienceQuery {
            regions: segment.regions.clone(),
            about: segment.about.clone(),
            limit: u32::try_from(MAX_AUDIENCE + 1).unwrap_or(u32::MAX),
        })
        .await?;
    if candidates.len() > MAX_AUDIENCE {
        return Err(refuse(
            "disruption_audience_too_large",
            format!("the segment holds more than {MAX_AUDIENCE} customers; narrow it"),
        ));
    }
    let notified: HashSet<_> = state
        .store
        .notified_customers(&incident_id)
        .await?
        .into_iter()
        .collect();
    let facts = state.store.facts(None, None, None).await?;
    let now = SystemClock.now();
    let shared = req
        .variables
        .as_ref()
        .map(|v| Variables::from_json("", &Value::Object(v.clone())));
    let default_locale = state.casework.workflow().default_locale.clone();
    // H4: while an experiment runs on the template, each recipient's case draws a variant
    // and gets that variant's template, as a reply from the template would.
    let experiment = state
        .casework
        .workflow()
        .experiments
        .on_template(key)
        .cloned();
    let mut variant_versions: BTreeMap<String, Vec<TemplateVersion>> = BTreeMap::new();
    for v in experiment.iter().flat_map(|e| &e.variants) {
        if !variant_versions.contains_key(&v.template) {
            let found = crate::api::templates::versions_of(&state, &v.template).await?;
            variant_versions.insert(v.template.clone(), found);
        }
    }
    let mut assignments = serde_json::Map::new();
    let mut recipients = Vec::new();
    for AudienceCandidate { customer, reach } in candidates {
        if !segment.admits(&customer) {
            continue;
        }
        let reachable = reach.filter(|r| r.case_id.is_some());
        let exclusion = exclusion(&state, &customer, reachable.as_ref(), &notified).await?;
        let (Some(reach), None) = (reachable, exclusion) else {
            recipients.push(left_out(
                &customer,
                exclusion.unwrap_or(Exclusion::NoChannel),
            ));
            continue;
        };
        let mut vars = recipient_variables(&customer, &reach, &incident, true);
        let region = reach.region.as_deref().or(customer.region.as_deref());
        vars.merge(crate::api::templates::status_variables(
            &facts,
            region,
            now,
            state.status_stale_after_secs,
        ));
        if let Some(shared) = &shared {
            vars.merge(shared.clone());
        }
        // The same text with the customer's own details hidden, for readers without
        // `personal.read`.
        let mut hidden = vars.clone();
        hidden.merge(recipient_variables(&customer, &reach, &incident, false));
        let locale = customer_locale(&customer);
        let arm = experiment
            .as_ref()
            .zip(reach.case_id.as_ref())
            .and_then(|(e, case)| {
                let v = crate::api::templates::render::variant_for(e, case.as_str())?;
                assignments.insert(case.to_string(), json!(v.name));
                Some(v.template.as_str())
            });
        let (this_key, this_versions) = match arm {
            Some(t) => (t, variant_versions.get(t).unwrap_or(&versions)),
            None => (key, &versions),
        };
        let fill_with = |vars: &Variables| {
            fill(
                this_versions,
                this_key,
                req.tone.as_deref(),
                &locale,
                &default_locale,
                vars,
                &req.fallbacks,
            )
            .map_err(crate::api::templates::problem)
        };
        let filled = fill_with(&vars)?;
        let preview = fill_with(&hidden)?.text;
        let reply = message(&reach, &incident, &filled.text);
        recipients.push(DisruptionRecipient {
            customer_id: customer.id.clone(),
            case_id: reach.case_id.clone(),
            target: target_for(reach.source).map(str::to_owned),
            locale: Some(filled.locale),
            template_version: Some(filled.version),
            text: filled.text,
            preview,
            payload: serde_json::to_value(Payload::Reply(reply)).unwrap_or_default(),
            fallbacks: filled.fallbacks,
            excluded: None,
            outbox_id: None,
            delivery: None,
        });
    }
    let sending = recipients.iter().filter(|r| r.excluded.is_none()).count();
    if sending == 0 {
        return Err(refuse(
            "disruption_no_recipients",
            format!(
                "no customer of the segment can be messaged ({} matched, all left out)",
                recipients.len()
            ),
        ));
    }
    let d = StoredDisruption {
        id: DisruptionId::generate(),
        incident_id: incident_id.clone(),
        status: "pending_approval".into(),
        created_by: who.actor.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
        doc: json!({
            "template": key,
            "experiment": experiment.as_ref().map(|e| json!({"name": e.name, "variants": assignments})),
            "tone": req.tone,
            "segment": {
                "regions": segment.regions,
                "about": segment.about,
                "tiers": segment.tiers,
                "min_value": segment.min_value,
            },
            "fallbacks": req.fallbacks,
            "variables": req.variables,
            "facts": facts_used(&versions, key, &facts, now, state.status_stale_after_secs),
            "decisions": [],
        }),
    };
    state.store.insert_disruption(&d, &recipients).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(d, recipients, who.can(Permission::PersonalRead))),
    ))
}

/// Why a customer of the segment gets nothing, if they don't.
async fn exclusion(
    state: &AppState,
    customer: &Customer,
    reach: Option<&Reach>,
    notified: &HashSet<sb_domain::CustomerId>,
) -> Result<Option<Exclusion>, Problem> {
    let Some(reach) = reach else {
        return Ok(Some(Exclusion::NoChannel));
    };
    let Some(target) = target_for(reach.source) else {
        return Ok(Some(Exclusion::NoChannel));
    };
    if !state.outbound_targets.iter().any(|t| t == target) {
        return Ok(Some(Exclusion::ChannelNotConfigured));
    }
    if notified.contains(&customer.id) {
        return Ok(Some(Exclusion::AlreadyNotified));
    }
    if crate::api::privacy::opted_out(state, &customer.id, reach.source.as_str()).await? {
        return Ok(Some(Exclusion::OptedOut));
    }
    Ok(None)
}

fn left_out(customer: &Customer, why: Exclusion) -> DisruptionRecipient {
    DisruptionRecipient {
        customer_id: customer.id.clone(),
        case_id: None,
        target: None,
        locale: None,
        template_version: None,
        text: String::new(),
        preview: String::new(),
        payload: json!({}),
        fallbacks: Vec::new(),
        excluded: Some(why.as_str().to_owned()),
        outbox_id: None,
        delivery: None,
    }
}

/// `customer.name`, `customer.first_name`, `customer.handle`, `incident.id`,
/// `incident.title`, `incident.severity`. Without `personal`, the customer's are `[redacted]`.
fn recipient_variables(
    customer: &Customer,
    reach: &Reach,
    incident: &Incident,
    personal: bool,
) -> Variables {
    let private = |s: &str| {
        if personal {
            s.to_owned()
        } else {
            crate::redact::HIDDEN.to_owned()
        }
    };
    let mut vars = Variables::new();
    if let Some(name) = customer.display_name.as_deref().map(str::trim) {
        vars.set("customer.name", private(name));
        if let Some(first) = name.split_whitespace().next() {
            vars.set("customer.first_name", private(first));
        }
    }
    vars.set("customer.handle", private(&reach.handle))
        .set("incident.id", incident.id.as_str())
        .set("incident.title", incident.title.as_str())
        .set("incident.severity", incident.severity.as_str());
    vars
}

/// A private message where the customer last wrote: a DM on social platforms, an e-mail to
/// their address.
fn message(reach: &Reach, incident: &Incident, text: &str) -> Reply {
    let account = reach.raw["account"]
        .as_str()
        .map_or_else(|| reach.channel.clone(), str::to_owned);
    if reach.source.as_str() == "email" {
        return Reply {
            platform: "email".into(),
            kind: ReplyKind::Email,
            account: reach.channel.clone(),
            recipient: Some(reach.handle.clone()),
            in_reply_to: None,
            text: text.to_owned(),
            context: None,
            subject: Some(incident.title.clone()),
            references: Vec::new(),
        };
    }
    Reply {
        platform: reach.source.as_str().to_owned(),
        kind: ReplyKind::Dm,
        account,
        recipient: Some(
            reach.raw["author_id"]
                .as_str()
                .map_or_else(|| reach.handle.clone(), str::to_owned),
        ),
        in_reply_to: None,
        text: text.to_owned(),
        context: None,
        subject: None,
        references: Vec::new(),
    }
}

/// The facts behind every `status.*` variable the template's approved versions use, as held
/// now: what the approver should know before approving (a stale fact was not stated).
fn facts_used(
    versions: &[TemplateVersion],
    key: &str,
    facts: &[OpsFact],
    now: Timestamp,
    stale_after_secs: i64,
) -> Vec<Value> {
    let mut subjects = BTreeSet::new();
    for v in versions
        .iter()
        .filter(|v| v.key == key && v.state == TemplateState::Approved)
    {
        if let Ok(body) = CompiledBody::parse(&v.body) {
            for name in body.variables() {
                if let Some(rest) = name.strip_prefix("status.") {
                    subjects.insert(rest.split('.').next().unwrap_or(rest).to_owned());
                }
            }
        }
    }
    subjects
        .into_iter()
        .map(|subject| {
            let held: Vec<Value> = facts
                .iter()
                .filter(|f| f.subject == subject)
                .map(|f| {
                    json!({
                        "kind": f.kind.as_str(), "region": f.region, "value": f.value,
                        "source": f.source, "source_time": f.source_time,
                        "stale": f.is_stale(now, stale_after_secs),
                    })
                })
                .collect();
            let state = if held.is_empty() {
                "missing"
            } else if held.iter().all(|f| f["stale"] == true) {
                "stale"
            } else {
                "fresh"
            };
            json!({ "subject": subject, "state": state, "held": held })
        })
        .collect()
}
