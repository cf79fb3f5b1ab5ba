//! Privacy rights (G4): erasing a customer's personal data everywhere it is stored, and
//! exporting everything held about them. Both the API and `switchboard privacy` use these, and
//! both leave an entry in the audit trail that names the customer only by their id. Retention
//! runs (the schedule in `serve`, `switchboard retention run`, `POST /api/v1/retention/run`)
//! apply the configured policies here too.

use sb_domain::{Case, CaseId, Clock, CustomerId, SystemClock};
use sb_governance::AuditRecord;
use sb_store::{CaseFilter, Erasure, ErasureCounts, Page, Store, StoreError};
use serde_json::{Value, json};

/// The export's format name, for whoever reads the bundle.
pub const EXPORT_FORMAT: &str = "switchboard.customer-export.v1";

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("no customer `{0}`")]
    Unknown(String),
    #[error("customer `{0}` is under legal hold ({1}); lift the hold first")]
    Held(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who asked, as the audit trail records them.
pub struct Requester<'a> {
    pub actor: &'a str,
    pub role: Option<&'a str>,
    pub origin: Option<&'a str>,
}

fn audit(
    who: &Requester<'_>,
    action: &str,
    customer: &CustomerId,
    outcome: u16,
    detail: Option<Value>,
) -> AuditRecord {
    AuditRecord {
        at_ms: SystemClock.now().millis(),
        actor: who.actor.to_owned(),
        role: who.role.map(str::to_owned),
        action: action.to_owned(),
        subject: Some(format!("customer:{customer}")),
        customer_id: Some(customer.to_string()),
        origin: who.origin.map(str::to_owned),
        outcome,
        detail,
    }
}

/// Erases the customer's personal data, compacts the files so none of it lingers, and records
/// the erasure (with counts only) in the audit trail.
pub async fn erase(
    store: &dyn Store,
    customer: &CustomerId,
    who: &Requester<'_>,
) -> Result<ErasureCounts, PrivacyError> {
    let counts = match store.erase_customer(customer, SystemClock.now()).await? {
        Erasure::Unknown => return Err(PrivacyError::Unknown(customer.to_string())),
        Erasure::Held(reason) => {
            return Err(PrivacyError::Held(customer.to_string(), reason));
        }
        Erasure::Done(counts) => counts,
    };
    store.compact().await?;
    store
        .append_audit(vec![audit(
            who,
            "privacy.erase",
            customer,
            0,
            Some(json!({ "after": counts })),
        )])
        .await?;
    Ok(counts)
}

async fn all_cases(store: &dyn Store, customer: &CustomerId) -> Result<Vec<Case>, StoreError> {
    let filter = CaseFilter {
        customer_id: Some(customer.clone()),
        ..CaseFilter::default()
    };
    let mut out = Vec::new();
    let mut page = Page {
        before: None,
        limit: 500,
    };
    loop {
        let batch = store.list_cases(&filter, &page).await?;
        let full = batch.len() == page.limit as usize;
        page.before = batch.last().map(|c| c.id.to_string());
        out.extend(batch);
        if !full {
            return Ok(out);
        }
    }
}

async fn case_bundle(store: &dyn Store, case: Case) -> Result<Value, StoreError> {
    let id: &CaseId = &case.id;
    let events = store.case_events(id).await?;
    let replies: Vec<Value> = store
        .list_replies(Some(id), None, 10_000)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "author": r.author, "automated": r.automated, "status": r.status,
                "doc": r.doc, "created_at": r.created_at, "updated_at": r.updated_at,
            })
        })
        .collect();
    let outbox = store.outbox_for_subject(id.as_str()).await?;
    let surveys: Vec<Value> = store
        .case_surveys(id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id, "resolution": s.resolution, "created_at": s.created_at,
                "expires_at": s.expires_at,
                "answer": s.answer.map(|a| json!({
                    "csat": a.csat, "nps": a.nps, "ces": a.ces, "comment": a.comment,
                    "answered_at": a.answered_at,
                })),
            })
        })
        .collect();
    Ok(json!({
        "case": case, "events": events, "replies": replies, "outbox": outbox, "surveys": surveys,
    }))
}

/// Everything held about the customer, as one JSON document; `None` for an unknown customer.
pub async fn export(
    store: &dyn Store,
    customer: &CustomerId,
    who: &Requester<'_>,
) -> Result<Value, PrivacyError> {
    let Some(profile) = store.customer(customer).await? else {
        return Err(PrivacyError::Unknown(customer.to_string()));
    };
    let hold = store.legal_hold(customer).await?.flatten();
    let consents = store.consents(customer).await?;
    let mut messages = Vec::new();
    for m in store.customer_messages(customer).await? {
        let raw = store.message_raw(&m.id).await?;
        let revisions = store.message_revisions(&m.id).await?;
        messages.push(json!({ "message": m, "raw": raw, "revisions": revisions }));
    }
    let mut cases = Vec::new();
    for case in all_cases(store, customer).await? {
        cases.push(case_bundle(store, case).await?);
    }
    let disruption_messages: Vec<Value> = store
        .customer_disruptions(customer)
        .await?
        .into_iter()
        .map(|(id, r)| {
            json!({
                "disruption_id": id, "case_id": r.case_id, "target": r.target,
                "locale": r.locale, "text": r.text, "excluded": r.excluded,
                "outbox_id": r.outbox_id,
            })
        })
        .collect();
    let mut audit_entries = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_entries(Some(customer), after, 1000).await?;
        let full = page.len() == 1000;
        after = page.last().map_or(after, |e| e.seq);
        audit_entries.extend(page);
        if !full {
            break;
        }
    }
    store
        .append_audit(vec![audit(who, "privacy.export", customer, 0, None)])
        .await?;
    Ok(json!({
        "format": EXPORT_FORMAT,
        "generated_at": SystemClock.now(),
        "customer": profile,
        "legal_hold": hold,
        "consents": consents,
        "messages": messages,
        "cases": cases,
        "disruption_messages": disruption_messages,
        "audit": audit_entries,
    }))
}

/// A retention policy (G4): after `days`, the content of messages of data class `class`
/// (`standard`, `personal`, `sensitive`), in `region` when given, is erased — unless the
/// customer is under legal hold.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    pub class: String,
    pub days: u32,
    pub region: Option<String>,
}

/// The configuration file's retention policies and how often `serve` applies them (0: only
/// on demand). Policies saved at run time (`retention_in_force`) replace the file's.
#[derive(Clone, Debug, Default)]
pub struct RetentionSettings {
    pub policies: Vec<RetentionPolicy>,
    pub every_hours: u64,
}

/// The data classes a message can carry, which retention policies name.
pub const DATA_CLASSES: [&str; 3] = ["standard", "personal", "sensitive"];
/// Most policies one set holds, and the longest retention, in days (100 years).
pub const MAX_POLICIES: usize = 100;
pub const MAX_DAYS: u32 = 36_500;

/// Why a set of retention policies is refused: names the policy (0-based) and what is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {detail}")]
pub struct PolicyError {
    pub field: String,
    pub detail: String,
}

/// Checks a set of policies: known classes, 1 to 36,500 days, a region name of 1–40
/// lowercase letters, digits or `-`, and one policy per class and region.
pub fn validate_policies(policies: &[RetentionPolicy]) -> Result<(), PolicyError> {
    let err = |field: String, detail: String| Err(PolicyError { field, detail });
    if policies.len() > MAX_POLICIES {
        return err(
            "policies".into(),
            format!("at most {MAX_POLICIES} policies"),
        );
    }
    for (i, p) in policies.iter().enumerate() {
        if !DATA_CLASSES.contains(&p.class.as_str()) {
            return err(
                format!("policies[{i}].class"),
                format!(
                    "no data class `{}` (expected one of {})",
                    p.class,
                    DATA_CLASSES.join(", ")
                ),
            );
        }
        if !(1..=MAX_DAYS).contains(&p.days) {
            return err(
                format!("policies[{i}].days"),
                format!("`days` is 1 to {MAX_DAYS}"),
            );
        }
        if let Some(r) = &p.region
            && (r.is_empty()
                || r.len() > 40
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        {
            return err(
                format!("policies[{i}].region"),
                "a region is 1 to 40 lowercase letters, digits or `-`".into(),
            );
        }
        if policies[..i]
            .iter()
            .any(|q| q.class == p.class && q.region == p.region)
        {
            return err(
                format!("policies[{i}]"),
                format!(
                    "a second policy for class `{}`{}",
                    p.class,
                    p.region
                        .as_deref()
                        .map(|r| format!(" in `{r}`"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    Ok(())
}

/// The retention policies in force and where they come from.
#[derive(Clone, Debug, PartialEq)]
pub struct PoliciesInForce {
    pub policies: Vec<RetentionPolicy>,
    /// The saved version; 0 while the configuration file's policies are in force.
    pub version: i64,
    pub saved_by: Option<String>,
    pub saved_at: Option<sb_domain::Timestamp>,
}

/// The latest policies saved at run time, else the configuration file's (`file`). A saved
/// set that no longer reads is an error rather than a silent fall-back: retention erases.
pub async fn retention_in_force(
    store: &dyn Store,
    file: &[RetentionPolicy],
) -> Result<PoliciesInForce, StoreError> {
    let Some(doc) = store
        .settings_document(sb_store::settings::RETENTION)
        .await?
    else {
        return Ok(PoliciesInForce {
            policies: file.to_vec(),
            version: 0,
            saved_by: None,
            saved_at: None,
        });
    };
    let policies: Vec<RetentionPolicy> = serde_json::from_str(&doc.document).map_err(|e| {
        StoreError::Corrupt(format!(
            "saved retention policies, version {}: {e}",
            doc.version
        ))
    })?;
    Ok(PoliciesInForce {
        policies,
        version: doc.version,
        saved_by: Some(doc.saved_by),
        saved_at: Some(doc.saved_at),
    })
}

/// Applies each policy in batches until nothing older is left, compacts the database files
/// when anything was erased, and records the run in the audit trail as `retention.run` with
/// the count per policy. Answers the count per policy.
pub async fn apply_retention(
    store: &dyn Store,
    policies: &[RetentionPolicy],
    now: sb_domain::Timestamp,
    who: &Requester<'_>,
) -> Result<Vec<u64>, StoreError> {
    let mut counts = Vec::with_capacity(policies.len());
    for p in policies {
        let cutoff = sb_domain::Timestamp(now.millis() - i64::from(p.days) * 86_400_000);
        let mut total = 0;
        loop {
            let n = store
                .apply_retention(&p.class, p.region.as_deref(), cutoff, now, 1000)
                .await?;
            total += n;
            if n < 1000 {
                break;
            }
        }
        counts.push(total);
    }
    if counts.iter().any(|&n| n > 0) {
        store.compact().await?;
    }
    let detail: Vec<Value> = policies
        .iter()
        .zip(&counts)
        .map(|(p, n)| json!({ "class": p.class, "region": p.region, "days": p.days, "erased": n }))
        .collect();
    store
        .append_audit(vec![AuditRecord {
            at_ms: SystemClock.now().millis(),
            actor: who.actor.into(),
            role: who.role.map(str::to_owned),
            action: "retention.run".into(),
            subject: None,
            customer_id: None,
            origin: who.origin.map(str::to_owned),
            outcome: 0,
            detail: Some(json!({ "after": detail })),
        }])
        .await?;
    Ok(counts)
}
