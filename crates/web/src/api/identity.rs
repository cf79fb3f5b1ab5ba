//! Duplicate customers (C2): a scan that compares customers sharing a blocking key, merges
//! the pairs the matcher links and puts the pairs it is unsure of up for review; the review
//! queue and its decisions; and the merge both of them carry out.
//!
//! A profile is what the store knows of a customer: the display name, each handle by
//! platform, and the region as location. The older customer of a pair survives a merge. Two
//! customers who each hold a different account on the same platform are never merged — not
//! by the scan, not by a reviewer (`409 identity_conflict`).

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{Customer, CustomerId, ErrorCode, Identity, Permission, Timestamp};
use sb_store::{
    CustomerMerge, CustomerMergePlan, CustomerMerged, IdentitySuggestion, NewSuggestion,
};
use sb_workflow::identity::{Decision, MatchResult, Profile};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

/// A scan compares each customer with at most this many candidates, those sharing the most
/// blocking keys first.
const CANDIDATES_PER_CUSTOMER: usize = 50;
/// Who an automatic merge's record names.
const SCAN: &str = "identity scan";
const STATUSES: [&str; 4] = ["pending", "merged", "rejected", "undone"];
const RETRIES: usize = 3;

/// The matcher's view of a customer.
pub fn profile(c: &Customer) -> Profile {
    let mut handles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in &c.identities {
        handles
            .entry(i.platform.as_str().to_owned())
            .or_default()
            .push(i.handle.clone());
    }
    Profile {
        id: c.id.to_string(),
        names: c.display_name.iter().cloned().collect(),
        handles,
        location: c.region.clone(),
        ..Profile::default()
    }
}

fn conflict(code: &str, detail: String) -> Problem {
    Problem::custom(StatusCode::CONFLICT, code, detail)
}

/// A merge as the scan and the review report it, with the comparison behind it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MergeSummary {
    /// Undo with `POST /api/v1/customers/merges/{merge_id}/undo`.
    pub merge_id: String,
    pub survivor: String,
    pub absorbed: String,
    /// The comparison: decision, total weight, `fields` (each field's agreement and weight),
    /// confidence, the shared key (masked) and why an automatic link was blocked.
    #[schema(value_type = Object)]
    pub result: MatchResult,
    /// What moved: identities (how many), message and case ids, consent channels, filled fields.
    #[schema(value_type = Object)]
    pub moved: sb_store::MovedRecords,
}

impl MergeSummary {
    fn new(m: Box<CustomerMerge>, result: MatchResult) -> Self {
        Self {
            merge_id: m.id,
            survivor: m.survivor.to_string(),
            absorbed: m.absorbed.to_string(),
            result,
            moved: m.moved,
        }
    }

    /// What the audit trail keeps of a merge: ids and weights, not the people.
    fn audit(&self) -> serde_json::Value {
        json!({
            "merge_id": self.merge_id, "survivor": self.survivor, "absorbed": self.absorbed,
            "result": self.result, "moved": self.moved,
        })
    }
}

/// Merges `absorbed` into `survivor` as `by`, deciding `suggestion` when given.
async fn merge_pair(
    state: &AppState,
    survivor: &Customer,
    absorbed: &Customer,
    result: &MatchResult,
    by: &str,
    suggestion: Option<&str>,
    at: Timestamp,
) -> Result<CustomerMerged, Problem> {
    let (_, record) = sb_workflow::identity::merge(
        &profile(survivor),
        &profile(absorbed),
        result.clone(),
        by,
        at,
    );
    let plan = CustomerMergePlan {
        survivor: survivor.id.clone(),
        absorbed: absorbed.id.clone(),
        absorbed_identities: absorbed
            .identities
            .iter()
            .map(|i| Identity::key(i.platform, &i.handle))
            .collect(),
        suggestion: suggestion.map(str::to_owned),
        record: serde_json::to_value(&record).map_err(Problem::internal)?,
        result: serde_json::to_value(result).map_err(Problem::internal)?,
        by: by.to_owned(),
        at,
    };
    Ok(state.store.merge_customers(&plan).await?)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    /// Customers taking part: not erased, not absorbed by a merge in force.
    pub customers: usize,
    /// Pairs compared: only those sharing a blocking key, each once.
    pub compared: usize,
    /// Pairs skipped because they were suggested or decided before.
    pub known: usize,
    /// New suggestions put up for review.
    pub suggested: u64,
    /// Pairs linked and merged automatically.
    pub merged: Vec<MergeSummary>,
}

#[utoipa::path(
    post, path = "/api/v1/identity/scan", tag = "customers",
    responses(
        (status = 200, description = "Customers sharing a blocking key were compared: pairs above `link_above` merged (never two accounts on one platform), pairs between the thresholds put up for review", body = ScanReport),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn scan(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, Problem> {
    let matcher = &state.casework.workflow().matcher;
    let customers = state.store.mergeable_customers().await?;
    let known: HashSet<(String, String)> = state
        .store
        .suggestion_pairs()
        .await?
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let by_id: BTreeMap<String, (&Customer, Profile)> = customers
        .iter()
        .map(|c| (c.id.to_string(), (c, profile(c))))
        .collect();
    let mut index = matcher.candidate_index();
    for (_, p) in by_id.values() {
        index.insert(p);
    }
    let (mut compared, mut skipped) = (0, 0);
    let (mut review, mut links) = (Vec::new(), Vec::new());
    for (id, (customer, p)) in &by_id {
        for other in index
            .candidates(p)
            .into_iter()
            .take(CANDIDATES_PER_CUSTOMER)
        {
            // Each pair once, from its older customer (ids sort by creation).
            if *id >= other {
                continue;
            }
            let Some((other_customer, q)) = by_id.get(&other) else {
                continue;
            };
            if known.contains(&(id.clone(), other.clone())) {
                skipped += 1;
                continue;
            }
            compared += 1;
            let result = matcher.compare(p, q);
            match result.decision {
                Decision::Link => links.push((*customer, *other_customer, result)),
                Decision::Review => review.push(NewSuggestion {
                    customer_a: customer.id.clone(),
                    customer_b: other_customer.id.clone(),
                    result: serde_json::to_value(&result).map_err(Problem::internal)?,
                }),
                Decision::Distinct => {}
            }
        }
    }
    let now = state.casework.now();
    let suggested = state.store.add_suggestions(&review, now).await?;
    links.sort_by(|x, y| {
        (x.0.id.as_str(), x.1.id.as_str()).cmp(&(y.0.id.as_str(), y.1.id.as_str()))
    });
    // A customer merged in this scan has a new profile: its other pairs wait for the next scan.
    let mut touched: HashSet<&CustomerId> = HashSet::new();
    let mut merged = Vec::new();
    for (survivor, absorbed, result) in links {
        if touched.contains(&survivor.id) || touched.contains(&absorbed.id) {
            continue;
        }
        // Another process may have merged or decided either meanwhile; the next scan sees it.
        if let CustomerMerged::Merged(m) =
            merge_pair(&state, survivor, absorbed, &result, SCAN, None, now).await?
        {
            touched.extend([&survivor.id, &absorbed.id]);
            merged.push(MergeSummary::new(m, result));
        }
    }
    record_merges(&state, &who, &merged).await?;
    let report = ScanReport {
        customers: customers.len(),
        compared,
        known: skipped,
        suggested,
        merged,
    };
    let note = AuditNote::default().change(
        None,
        Some(json!({
            "compared": report.compared, "suggested": report.suggested,
            "merged": report.merged.iter().map(|m| m.merge_id.as_str()).collect::<Vec<_>>(),
        })),
    );
    Ok(note.on(Json(report)))
}

/// One audit entry per automatic merge, filed under the survivor, with every field's weight.
async fn record_merges(
    state: &AppState,
    who: &Principal,
    merged: &[MergeSummary],
) -> Result<(), Problem> {
    let records = merged
        .iter()
        .map(|m| sb_governance::AuditRecord {
            at_ms: state.casework.now().millis(),
            actor: who.actor.clone(),
            role: Some(who.role.as_str().to_owned()),
            action: "POST /api/v1/identity/scan".into(),
            subject: Some(format!("customer_merge:{}", m.merge_id)),
            customer_id: Some(m.survivor.clone()),
            origin: None,
            outcome: 200,
            detail: Some(json!({
                "before": { "survivor": m.survivor, "absorbed": m.absorbed },
                "after": m.audit(),
            })),
        })
        .collect();
    state
        .store
        .append_audit(records)
        .await
        .map(|_| ())
        .map_err(Problem::internal)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// pending, merged, rejected or undone; all when absent
    #[param(pattern = "^(pending|merged|rejected|undone)$")]
    status: Option<String>,
    /// `next_cursor` of the previous page
    #[param(pattern = "^sug_.+$")]
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SuggestionView {
    pub id: String,
    pub status: String,
    /// The pair, older customer first (the survivor of a merge); `null` for one erased since.
    pub customers: Vec<Option<Customer>>,
    /// The comparison: decision, weight, `fields` with each field's agreement and weight,
    /// confidence, and `blocked` when the two hold different accounts on one platform.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    /// The pair's latest merge, to undo it.
    pub merge_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SuggestionPage {
    pub items: Vec<SuggestionView>,
    pub next_cursor: Option<String>,
}

async fn view(
    state: &AppState,
    who: &Principal,
    s: IdentitySuggestion,
) -> Result<SuggestionView, Problem> {
    let mut customers = Vec::with_capacity(2);
    for id in [&s.customer_a, &s.customer_b] {
        let mut c = state.store.customer(id).await?;
        if let Some(c) = c.as_mut().filter(|_| !who.can(Permission::PersonalRead)) {
            crate::redact::customer(c);
        }
        customers.push(c);
    }
    Ok(SuggestionView {
        id: s.id,
        status: s.status,
        customers,
        result: s.result,
        created_at: s.created_at,
        decided_by: s.decided_by,
        decided_at: s.decided_at,
        merge_id: s.merge_id,
    })
}

#[utoipa::path(
    get, path = "/api/v1/identity/suggestions", tag = "customers",
    params(SuggestionQuery),
    responses(
        (status = 200, description = "Possible duplicates, newest first, each with both profiles and the per-field weights", body = SuggestionPage),
        (status = 400, description = "Unknown status, bad cursor or limit (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn suggestions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<SuggestionQuery>, QueryRejection>,
) -> Result<Json<SuggestionPage>, Problem> {
    let q = crate::api::query(q)?;
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            format!("unknown status `{s}`: one of {}", STATUSES.join(", ")),
        )
        .with_field("status"));
    }
    let page = crate::api::page(q.cursor.as_deref(), q.limit, |c| {
        c.strip_prefix("sug_")
            .filter(|rest| !rest.is_empty())
            .map(|_| ())
    })?;
    let found = state.store.suggestions(q.status.as_deref(), &page).await?;
    let next_cursor = crate::api::next_cursor(&found, &page, |s| s.id.clone());
    let mut items = Vec::with_capacity(found.len());
    for s in found {
        items.push(view(&state, &who, s).await?);
    }
    Ok(Json(SuggestionPage { items, next_cursor }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `merge` or `reject`
    pub decision: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub suggestion: SuggestionView,
    /// The merge, when the decision was `merge`.
    pub merge: Option<MergeSummary>,
}

#[utoipa::path(
    post, path = "/api/v1/identity/suggestions/{id}/decision", tag = "customers",
    params(("id" = String, Path, description = "Suggestion id (`sug_…`)")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "Rejected, or merged: the newer customer's identities, messages, cases and consents moved to the older; the audit entry carries every field's weight", body = DecisionView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such suggestion, or a customer of it is gone", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`suggestion_decided`, `identity_conflict` (different accounts on one platform), `customer_merged` (one of them was merged away since), or `customer_changed`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A decision other than `merge` or `reject` (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn decide(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: DecisionRequest = crate::body::json_as(body, "{\"decision\": \"merge\"|\"reject\"}")?;
    let suggestion = match id.strip_prefix("sug_") {
        Some(_) => state.store.suggestion(&id).await?,
        None => None,
    }
    .ok_or_else(|| Problem::not_found(format!("no suggestion `{id}`")))?;
    let decided = || {
        conflict(
            "suggestion_decided",
            format!("suggestion `{id}` was already decided"),
        )
    };
    if suggestion.status != "pending" {
        return Err(decided());
    }
    let (a, b) = (suggestion.customer_a.clone(), suggestion.customer_b.clone());
    let now = state.casework.now();
    let merge = match req.decision.as_str() {
        "reject" => {
            if !state.store.reject_suggestion(&id, &who.actor, now).await? {
                return Err(decided());
            }
            None
        }
        "merge" => Some(decide_merge(&state, &who, &id, &a, &b, now).await?),
        other => {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                format!("unknown decision `{other}`: `merge` or `reject`"),
            )
            .with_field("decision"));
        }
    };
    let after = state.store.suggestion(&id).await?.ok_or_else(decided)?;
    let note = AuditNote::customer(a.as_str())
        .subject(format!("identity_suggestion:{id}"))
        .change(
            Some(json!({ "status": "pending", "customers": [a.as_str(), b.as_str()] })),
            Some(match &merge {
                Some(m) => json!({ "status": after.status, "merge": m.audit() }),
                None => json!({ "status": after.status }),
            }),
        );
    let suggestion = view(&state, &who, after).await?;
    Ok(note.on(Json(DecisionView { suggestion, merge })))
}

async fn decide_merge(
    state: &AppState,
    who: &Principal,
    id: &str,
    a: &CustomerId,
    b: &CustomerId,
    now: Timestamp,
) -> Result<MergeSummary, Problem> {
    let matcher = &state.casework.workflow().matcher;
    for _ in 0..RETRIES {
        let mut pair = Vec::with_capacity(2);
        for c in [a, b] {
            pair.push(
                state
                    .store
                    .customer(c)
                    .await?
                    .ok_or_else(|| Problem::not_found(format!("no customer `{c}`")))?,
            );
        }
        let (survivor, absorbed) = (&pair[0], &pair[1]);
        // Compared again: the profiles may have changed since the scan.
        let result = matcher.compare(&profile(survivor), &profile(absorbed));
        if let Some(reason) = &result.blocked {
            return Err(conflict(
                "identity_conflict",
                format!("`{a}` and `{b}` cannot be one customer: {reason}"),
            ));
        }
        match merge_pair(
            state,
            survivor,
            absorbed,
            &result,
            &who.actor,
            Some(id),
            now,
        )
        .await?
        {
            CustomerMerged::Merged(m) => return Ok(MergeSummary::new(m, result)),
            CustomerMerged::Changed => continue,
            CustomerMerged::NoSuchCustomer(c) => {
                return Err(Problem::not_found(format!("no customer `{c}`")));
            }
            CustomerMerged::AlreadyMerged { customer, merge } => {
                return Err(conflict(
                    "customer_merged",
                    format!("customer `{customer}` was merged away by `{merge}`"),
                ));
            }
            CustomerMerged::SuggestionDecided => {
                return Err(conflict(
                    "suggestion_decided",
                    format!("suggestion `{id}` was already decided"),
                ));
            }
        }
    }
    Err(conflict(
        "customer_changed",
        format!("`{a}` and `{b}` kept changing while they were merged; try again"),
    ))
}
