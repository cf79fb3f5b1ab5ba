//! Reply suggestions (B8): for a case, the approved templates and the replies people sent on
//! other cases, ranked by `sb_workflow::suggest` for the customer's latest message, language
//! and mood, each with why. The agent always chooses: nothing here sends, drafts or changes
//! anything.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::api::templates::{self, case_locale, case_variables};
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Json};
use sb_domain::{Case, CaseId, ErrorCode, Permission};
use sb_workflow::suggest::{Candidate, CandidateKind, Query as Wanted, suggest};
use sb_workflow::templates::{TemplateError, select};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub const DEFAULT_SUGGESTIONS: u32 = 5;
pub const MAX_SUGGESTIONS: u32 = 20;
/// How many of the latest sent replies are weighed: enough to cover a team's recurring
/// answers, few enough to rank on every case opened.
const PAST_REPLIES: u32 = 100;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// 1 to 20; 5 when absent.
    #[param(minimum = 1, maximum = 20)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateRef {
    pub key: String,
    pub version: u32,
    pub locale: String,
    pub tone: String,
    /// Variables the case cannot fill; when any are missing the text is the raw body, and
    /// the agent supplies them when rendering or sending.
    pub missing_variables: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SuggestionView {
    /// `template` or `past_reply`.
    pub kind: String,
    /// The template's key, or the past reply's id.
    pub id: String,
    pub text: String,
    /// 0 to 1; anything in the customer's language scores above 0.5.
    pub score: f64,
    /// For the agent: `same language`, `similar wording 0.62`, `rated 5/5`, …
    pub why: Vec<String>,
    pub template: Option<TemplateRef>,
    /// For a past reply: the case it answered.
    pub case_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    /// Best first.
    pub items: Vec<SuggestionView>,
}

/// Customer satisfaction of the cases past replies answered, 1 to 5, by case id: the latest
/// survey answer of each (unanswered cases rank as unrated; 1–2 are never suggested).
async fn reply_ratings(
    state: &AppState,
    case_ids: &[CaseId],
) -> Result<HashMap<String, u8>, Problem> {
    Ok(state.store.csat_for_cases(case_ids).await?)
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}/suggestions", tag = "cases",
    params(("id" = String, Path, description = "Case id"), SuggestionQuery),
    responses(
        (status = 200, description = "Ranked suggestions, best first; nothing is sent", body = Suggestions),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    q: Result<Query<SuggestionQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let case_id = parse_id(&id, CaseId::parse, "case")?;
    let q = crate::api::query(q)?;
    let limit = q.limit.unwrap_or(DEFAULT_SUGGESTIONS);
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            format!("`limit` must be between 1 and {MAX_SUGGESTIONS}"),
        )
        .with_field("limit"));
    }
    let Some(case) = state.store.case(&case_id).await? else {
        return Err(Problem::not_found(format!("no case `{case_id}`")));
    };
    let customer = state.store.customer(&case.customer_id).await?;
    let personal = who.can(Permission::PersonalRead);
    let messages = state.store.case_messages(&case_id).await?;
    let latest = messages.iter().rev().find(|m| m.removed_at.is_none());
    let understood = latest.and_then(|m| m.enrichment.as_ref());
    let locale = case_locale(&case, customer.as_ref());
    let language = if locale.is_empty() {
        understood.map(|e| e.language.clone()).unwrap_or_default()
    } else {
        locale.clone()
    };
    let wanted = Wanted {
        text: latest.map_or(case.subject.as_str(), |m| m.text.as_str()),
        language: &language,
        sentiment: understood
            .map(|e| e.sentiment_compound)
            .or(case.last_sentiment)
            .unwrap_or(0.0),
    };

    let mut candidates = Vec::new();
    let mut refs: HashMap<String, TemplateRef> = HashMap::new();
    let library = templates::library(&state).await?;
    let vars = case_variables(&state, &case, customer.as_ref(), personal).await?;
    let default_locale = &state.casework.workflow().default_locale;
    let mut keys: Vec<&str> = library.iter().map(|v| v.key.as_str()).collect();
    keys.dedup();
    for key in keys {
        // One version per template: the one that would be sent to this customer.
        let Ok(v) = select(&library, key, &locale, None, default_locale) else {
            continue;
        };
        let (text, missing_variables) = match v.render(&vars) {
            Ok(text) => (text, Vec::new()),
            Err(TemplateError::MissingVariables(missing)) => (v.body.clone(), missing),
            Err(_) => continue,
        };
        candidates.push(Candidate {
            kind: CandidateKind::Template,
            id: key.to_owned(),
            text,
            language: v.locale.clone(),
            rating: None,
            sentiment: None,
        });
        refs.insert(
            key.to_owned(),
            TemplateRef {
                key: key.to_owned(),
                version: v.version,
                locale: v.locale.clone(),
                tone: v.tone.clone(),
                missing_variables,
            },
        );
    }
    // Past replies were written to other customers and may name them.
    if personal {
        candidates.extend(past_reply_candidates(&state, &case).await?);
    }
    let items = suggest(&wanted, &candidates, limit as usize)
        .into_iter()
        .map(|s| {
            let (id, case_id) = match (s.kind, s.id.split_once('@')) {
                (CandidateKind::PastReply, Some((reply, case))) => {
                    (reply.to_owned(), Some(case.to_owned()))
                }
                _ => (s.id.clone(), None),
            };
            let template = match s.kind {
                CandidateKind::Template => refs.remove(&id),
                CandidateKind::PastReply => None,
            };
            SuggestionView {
                kind: s.kind.as_str().to_owned(),
                id,
                text: s.text,
                score: s.score,
                why: s.why,
                template,
                case_id,
            }
        })
        .collect();
    Ok(AuditNote::customer(case.customer_id.as_str()).on(Json(Suggestions { items })))
}

/// The latest replies people sent on other cases, each text once (the newest sending of it),
/// in the language and mood of the case it answered. Ids are `<reply id>@<case id>`.
async fn past_reply_candidates(state: &AppState, case: &Case) -> Result<Vec<Candidate>, Problem> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut replies = Vec::new();
    for r in state.store.past_replies(PAST_REPLIES).await? {
        let Some(text) = r.doc["text"].as_str().map(str::trim) else {
            continue;
        };
        if r.case_id == case.id || !seen.insert(text.to_lowercase()) {
            continue;
        }
        replies.push((r.id, r.case_id, text.to_owned()));
    }
    let mut cases: HashMap<CaseId, Option<Case>> = HashMap::new();
    for (_, case_id, _) in &replies {
        if !cases.contains_key(case_id) {
            cases.insert(case_id.clone(), state.store.case(case_id).await?);
        }
    }
    let case_ids: Vec<CaseId> = cases.keys().cloned().collect();
    let ratings = reply_ratings(state, &case_ids).await?;
    Ok(replies
        .into_iter()
        .map(|(id, case_id, text)| {
            let answered = cases.get(&case_id).and_then(Option::as_ref);
            Candidate {
                kind: CandidateKind::PastReply,
                id: format!("{id}@{case_id}"),
                text,
                language: answered
                    .and_then(|c| c.language.clone())
                    .unwrap_or_default(),
                rating: ratings.get(case_id.as_str()).copied(),
                sentiment: answered.and_then(|c| c.last_sentiment),
            }
        })
        .collect())
}
