//! Merging and splitting cases (D1), and undoing a customer merge (C2).
//!
//! A case merge or split is decided here with the case workflow's edits — so status, SLA
//! clocks and history follow the usual rules — and saved by the store in one transaction
//! guarded by the cases' versions. A concurrent change makes it read and decide again; after
//! a few tries it answers `409 case_changed`. There is never a half merge.

use crate::AppState;
use crate::api::casework::{CaseWorkView, work_view};
use crate::api::messages::parse_id;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{
    Case, CaseId, CaseStatus, CaseWork, ErrorCode, Identity, Message, MessageId, Platform,
};
use sb_pipeline::casework::{CaseEdit, facts};
use sb_pipeline::{CaseworkError, PipelineEvent};
use sb_store::{CaseMerge, CaseSave, CaseSplit, MergeUndo, Returned};
use sb_workflow::identity::MergeRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Reads and decides again this many times while other changes keep landing first.
const RETRIES: usize = 5;
/// Most messages one split may move.
pub const MAX_SPLIT_MESSAGES: usize = 500;
const SUBJECT_CHARS: usize = 120;

fn conflict(code: &str, detail: String) -> Problem {
    Problem::custom(StatusCode::CONFLICT, code, detail)
}

fn invalid(field: &str, detail: String) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn changed(id: &CaseId) -> Problem {
    conflict(
        "case_changed",
        format!("case `{id}` kept changing while this was decided; read it again"),
    )
}

fn ids(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.id.to_string()).collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The case that takes this case's messages: an open case of the same customer.
    #[schema(pattern = "^case_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    pub into: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MergedCase {
    /// The case merged away: now closed, `merged_into` the other.
    pub case_id: String,
    pub into: String,
    /// The messages that moved.
    pub messages: Vec<String>,
    /// The kept case's workflow, with the `merged_from` event.
    pub target: CaseWorkView,
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/merge", tag = "cases",
    params(("id" = String, Path, description = "The duplicate case, merged away")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Every message of the case moved to `into`; the case is closed with `merged_into`, its SLA clocks and escalation deadlines stopped; both histories say so", body = MergedCase),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`merge_into_itself`, `case_merged` (already merged away), `merge_target_closed`, `merge_different_customers`, or `case_changed` (the cases kept changing)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`into` is not a case (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn merge(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let source = parse_id(&id, CaseId::parse, "case")?;
    let req: MergeRequest = crate::body::json_as(body, "{\"into\": case id}")?;
    let target = CaseId::parse(&req.into)
        .ok_or_else(|| invalid("into", format!("`{}` is not a case id", req.into)))?;
    if target == source {
        return Err(conflict(
            "merge_into_itself",
            format!("case `{source}` cannot be merged into itself"),
        ));
    }
    let flow = state.casework.clone();
    for _ in 0..RETRIES {
        let src = state
            .store
            .case_work(&source)
            .await?
            .ok_or_else(|| Problem::not_found(format!("no case `{source}`")))?;
        let tgt = state
            .store
            .case_work(&target)
            .await?
            .ok_or_else(|| invalid("into", format!("no case `{target}`")))?;
        if let Some(into) = &src.merged_into {
            return Err(conflict(
                "case_merged",
                format!("case `{source}` was already merged into `{into}`"),
            ));
        }
        if tgt.merged_into.is_some() || tgt.case.status == CaseStatus::Closed {
            return Err(conflict(
                "merge_target_closed",
                format!("case `{target}` is closed: merge into an open case"),
            ));
        }
        if src.case.customer_id != tgt.case.customer_id {
            return Err(conflict(
                "merge_different_customers",
                format!(
                    "case `{source}` is customer `{}`'s, case `{target}` is `{}`'s: merge the customers first",
                    src.case.customer_id, tgt.case.customer_id
                ),
            ));
        }
        let moving = state.store.case_messages(&source).await?;
        let staying = state.store.case_messages(&target).await?;
        let moved = ids(&moving);
        let now = flow.now();
        let wf = flow.workflow();
        let mut from = CaseEdit::new(&wf, src, &who.actor, now).map_err(CaseworkError::from)?;
        from.set_status(CaseStatus::Closed, now);
        from.change.merged_into = Some(target.clone());
        // The escalation team answers on the kept case now; these deadlines would page them
        // about a case nobody works.
        let mut stopped = Vec::new();
        for e in &mut from.escalations {
            if e.acknowledged_at.is_none() && e.breached_at.is_none() {
                e.acknowledged_at = Some(now);
                e.acknowledged_by = Some(format!("merged into {target}"));
                stopped.push(e.escalation.name.clone());
            }
        }
        from.event(
            "merged",
            now,
            json!({ "into": target.as_str(), "messages": moved, "escalations_stopped": stopped }),
        );
        let mut into = CaseEdit::new(&wf, tgt, &who.actor, now).map_err(CaseworkError::from)?;
        into.event(
            "merged_from",
            now,
            json!({ "from": source.as_str(), "messages": moved }),
        );
        let customer = from.work.case.customer_id.clone();
        let priorities = [
            (source.clone(), from.change.priority),
            (target.clone(), into.change.priority),
        ];
        let merge = CaseMerge {
            source: from.finish(),
            target: into.finish(),
            messages: moving.iter().map(|m| m.id.clone()).collect(),
        };
        match state.store.merge_cases(&merge).await? {
            CaseSave::Saved => {}
            CaseSave::Changed | CaseSave::AlreadyDone => continue,
        }
        for (case, priority) in priorities {
            state.events.emit(PipelineEvent::CaseUpdated {
                case_id: case.to_string(),
                priority: priority.as_str().into(),
            });
        }
        let kept = ids(&staying);
        let all: Vec<String> = kept.iter().chain(&moved).cloned().collect();
        let note = AuditNote::customer(customer.as_str())
            .subject(format!("case:{source}"))
            .change(
                Some(json!({
                    "source": { "id": source.as_str(), "messages": moved },
                    "target": { "id": target.as_str(), "messages": kept },
                })),
                Some(json!({
                    "source": { "id": source.as_str(), "status": "closed", "merged_into": target.as_str(), "messages": [] },
                    "target": { "id": target.as_str(), "messages": all },
                })),
            );
        let view = work_view(&state, &target)
            .await?
            .ok_or_else(|| Problem::not_found(format!("no case `{target}`")))?;
        return Ok(note.on(Json(MergedCase {
            case_id: source.to_string(),
            into: target.to_string(),
            messages: moved,
            target: view,
        })));
    }
    Err(changed(&source))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    /// Message ids of the case that go to the new case: some, not all.
    pub messages: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SplitCase {
    pub case_id: String,
    pub new_case_id: String,
    /// The messages that moved.
    pub messages: Vec<String>,
    /// The new case's workflow: its SLA clocks and `split_from` event.
    pub new_case: CaseWorkView,
}

/// The first line of what the customer wrote, as cases are titled.
fn subject_of(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= SUBJECT_CHARS {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(SUBJECT_CHARS - 1).collect();
    s.push('…');
    s
}

/// The named messages, each once, in the order given.
fn split_ids(raw: &[String]) -> Result<Vec<MessageId>, Problem> {
    if raw.is_empty() || raw.len() > MAX_SPLIT_MESSAGES {
        return Err(invalid(
            "messages",
            format!("name 1 to {MAX_SPLIT_MESSAGES} messages of the case"),
        ));
    }
    let mut out: Vec<MessageId> = Vec::with_capacity(raw.len());
    for r in raw {
        let id = MessageId::parse(r)
            .ok_or_else(|| invalid("messages", format!("`{r}` is not a message id")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The case the split opens, as the pipeline would have opened it for its first message.
fn new_case_for(source: &Case, moving: &[&Message], now: sb_domain::Timestamp) -> Case {
    let first = moving[0];
    let opened_at = moving
        .iter()
        .map(|m| m.created_at)
        .min()
        .unwrap_or(first.created_at);
    let last = moving
        .iter()
        .map(|m| m.created_at)
        .max()
        .unwrap_or(first.created_at);
    Case {
        id: CaseId::generate(),
        status: CaseStatus::New,
        assignee: None,
        tags: Vec::new(),
        subject: subject_of(&first.text),
        language: first.enrichment.as_ref().map(|e| e.language.clone()),
        region: first.region.clone(),
        message_count: moving.len() as i64,
        last_sentiment: None,
        opened_at,
        updated_at: now,
        last_message_at: last,
        ..source.clone()
    }
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/split", tag = "cases",
    params(("id" = String, Path, description = "The case to split")),
    request_body = SplitRequest,
    responses(
        (status = 201, description = "The messages moved to a new case of the same customer and channel, with the case's queue and priority and its own SLA clocks; both histories say so", body = SplitCase),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`case_merged` (merged away, nothing to split), or `case_changed` (the case kept changing)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "No, too many or malformed ids (`invalid_field`), a message of another case (`message_not_in_case`), or every message of the case (`split_whole_case`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn split(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let source = parse_id(&id, CaseId::parse, "case")?;
    let req: SplitRequest = crate::body::json_as(body, "{\"messages\": [message ids]}")?;
    let wanted = split_ids(&req.messages)?;
    let flow = state.casework.clone();
    for _ in 0..RETRIES {
        let src = state
            .store
            .case_work(&source)
            .await?
            .ok_or_else(|| Problem::not_found(format!("no case `{source}`")))?;
        if let Some(into) = &src.merged_into {
            return Err(conflict(
                "case_merged",
                format!("case `{source}` was merged into `{into}`: split that case"),
            ));
        }
        let held = state.store.case_messages(&source).await?;
        let foreign: Vec<&str> = wanted
            .iter()
            .filter(|w| !held.iter().any(|m| m.id == **w))
            .map(|w| w.as_str())
            .collect();
        if !foreign.is_empty() {
            return Err(Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "message_not_in_case",
                format!("not messages of case `{source}`: {}", foreign.join(", ")),
            )
            .with_field("messages"));
        }
        if wanted.len() == held.len() {
            return Err(Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "split_whole_case",
                "a split leaves at least one message in the case",
            )
            .with_field("messages"));
        }
        let moving: Vec<&Message> = held.iter().filter(|m| wanted.contains(&m.id)).collect();
        let moved: Vec<String> = moving.iter().map(|m| m.id.to_string()).collect();
        let now = flow.now();
        let case = new_case_for(&src.case, &moving, now);
        let new_id = case.id.clone();
        let customer = state.store.customer(&case.customer_id).await?;
        let fresh = CaseWork {
            case: case.clone(),
            version: 0,
            sla: None,
            escalations: json!([]),
            first_response_at: None,
            first_resolved_at: None,
            resolved_at: None,
            merged_into: None,
        };
        let wf = flow.workflow();
        let mut opened = CaseEdit::new(&wf, fresh, &who.actor, now).map_err(CaseworkError::from)?;
        // The topic has waited since the customer raised it: its clocks run from then.
        let sla = facts::sla_facts(&opened, moving[0], customer.as_ref());
        opened.start_sla(&sla, case.opened_at);
        opened.event(
            "split_from",
            now,
            json!({ "from": source.as_str(), "messages": moved }),
        );
        let mut from = CaseEdit::new(&wf, src, &who.actor, now).map_err(CaseworkError::from)?;
        from.event(
            "split_to",
            now,
            json!({ "to": new_id.as_str(), "messages": moved }),
        );
        let split = CaseSplit {
            source: from.finish(),
            new_case: case.clone(),
            new_work: opened.finish(),
            messages: moving.iter().map(|m| m.id.clone()).collect(),
        };
        match state.store.split_case(&split).await? {
            CaseSave::Saved => {}
            CaseSave::Changed | CaseSave::AlreadyDone => continue,
        }
        state.events.emit(PipelineEvent::CaseOpened {
            case_id: new_id.to_string(),
            customer_id: case.customer_id.to_string(),
            priority: case.priority.as_str().into(),
        });
        state.events.emit(PipelineEvent::CaseUpdated {
            case_id: source.to_string(),
            priority: split.source.priority.as_str().into(),
        });
        let all = ids(&held);
        let kept: Vec<&String> = all.iter().filter(|m| !moved.contains(m)).collect();
        let note = AuditNote::customer(case.customer_id.as_str())
            .subject(format!("case:{source}"))
            .change(
                Some(json!({ "case": { "id": source.as_str(), "messages": all } })),
                Some(json!({
                    "case": { "id": source.as_str(), "messages": kept },
                    "new_case": { "id": new_id.as_str(), "messages": moved },
                })),
            );
        let view = work_view(&state, &new_id)
            .await?
            .ok_or_else(|| Problem::not_found(format!("no case `{new_id}`")))?;
        return Ok(note.on((
            StatusCode::CREATED,
            Json(SplitCase {
                case_id: source.to_string(),
                new_case_id: new_id.to_string(),
                messages: moved,
                new_case: view,
            }),
        )));
    }
    Err(changed(&source))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UndoneMerge {
    pub merge_id: String,
    pub survivor: String,
    pub absorbed: String,
    #[schema(value_type = String, format = DateTime)]
    pub undone_at: sb_domain::Timestamp,
    /// What went back to the absorbed customer: identities (how many), messages, cases and
    /// consent channels.
    #[schema(value_type = Object)]
    pub returned: Returned,
}

/// The identity keys the absorbed customer held, from the merge record.
fn absorbed_keys(record: &MergeRecord) -> Vec<String> {
    record
        .absorbed
        .handles
        .iter()
        .filter_map(|(platform, handles)| Some((Platform::parse(platform)?, handles)))
        .flat_map(|(p, handles)| handles.iter().map(move |h| Identity::key(p, h)))
        .collect()
}

#[utoipa::path(
    post, path = "/api/v1/customers/merges/{id}/undo", tag = "customers",
    params(("id" = String, Path, description = "Merge id (`mrg_…`), from the merge decision or scan")),
    responses(
        (status = 200, description = "The absorbed customer has back its identities, the messages and cases the merge moved, and what arrived since under its identities; consents and filled fields go back unless changed since", body = UndoneMerge),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such merge", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`merge_undone` (already undone), or `merge_superseded` (the survivor was merged into another customer since: undo that first)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn undo(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let merge = match id.strip_prefix("mrg_") {
        Some(_) => state.store.customer_merge(&id).await?,
        None => None,
    }
    .ok_or_else(|| Problem::not_found(format!("no customer merge `{id}`")))?;
    let record: MergeRecord = serde_json::from_value(merge.record.clone()).map_err(|e| {
        Problem::internal(format!(
            "customer merge `{id}` holds an unreadable record: {e}"
        ))
    })?;
    let now = state.casework.now();
    let undone = state
        .store
        .undo_customer_merge(&id, &absorbed_keys(&record), &who.actor, now)
        .await?;
    let (merge, returned) = match undone {
        MergeUndo::Undone { merge, returned } => (merge, returned),
        MergeUndo::Unknown => return Err(Problem::not_found(format!("no customer merge `{id}`"))),
        MergeUndo::AlreadyUndone(at) => {
            return Err(conflict(
                "merge_undone",
                format!("customer merge `{id}` was undone at {}", at.to_rfc3339()),
            ));
        }
        MergeUndo::Superseded(later) => {
            return Err(conflict(
                "merge_superseded",
                format!(
                    "customer `{}` was merged into another customer since (`{later}`): undo that merge first",
                    merge.survivor
                ),
            ));
        }
    };
    let note = AuditNote::customer(merge.absorbed.as_str())
        .subject(format!("customer_merge:{id}"))
        .change(
            Some(json!({
                "merge_id": id, "survivor": merge.survivor.as_str(),
                "absorbed": merge.absorbed.as_str(), "moved": merge.moved,
            })),
            Some(json!({ "undone_at": now, "returned": returned })),
        );
    Ok(note.on(Json(UndoneMerge {
        merge_id: merge.id,
        survivor: merge.survivor.to_string(),
        absorbed: merge.absorbed.to_string(),
        undone_at: now,
        returned,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_names_each_message_once_and_refuses_nonsense() {
        let a = MessageId::generate().to_string();
        let b = MessageId::generate().to_string();
        let got = split_ids(&[a.clone(), b.clone(), a.clone()]).unwrap();
        assert_eq!(
            got.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            [a, b]
        );
        assert!(split_ids(&[]).is_err());
        assert!(split_ids(&["case_01".into()]).is_err());
        let too_many: Vec<String> = (0..=MAX_SPLIT_MESSAGES)
            .map(|_| MessageId::generate().to_string())
            .collect();
        assert!(split_ids(&too_many).is_err());
    }

    #[test]
    fn a_split_case_is_titled_after_its_first_line() {
        assert_eq!(
            subject_of("\n  card charged twice  \nplease help"),
            "card charged twice"
        );
        let long = "x".repeat(300);
        assert_eq!(subject_of(&long).chars().count(), SUBJECT_CHARS);
    }
}
