//! The inbox: cases still being worked, newest first, by queue and view, filtered by status,
//! priority, platform, language, sentiment, intent and SLA standing; each with its most
//! pressing SLA clock counting down; the filters in use can be saved as a named view (kept on
//! the server through `/api/v1/views`, private or shared with the team). New cases arrive without a reload: the page listens to
//! `GET /api/v1/events` and fetches its rows again from `/ui/inbox/rows`. `j`/`k` move, `Enter`
//! opens.

use super::sla::{self, Standing};
use super::{Viewer, ago, error_page, label, layout, sentiment_band};
use crate::AppState;
use crate::problem::Problem;
use axum::Extension;
use axum::extract::{Query, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use sb_domain::{
    CasePriority, CaseStatus, Clock, ErrorCode, Platform, Queue, SystemClock, Timestamp,
    message::INTENTS,
};
use sb_store::{InboxFilter, InboxRow, Page, SentimentBand};
use serde::Deserialize;
use std::collections::HashMap;

/// Cases on one inbox page.
pub const PAGE_SIZE: u32 = 50;
/// With an SLA filter the store is read in chunks and filtered here; this bounds the scan.
const SLA_SCAN_LIMIT: usize = 5_000;
const SLA_CHUNK: u32 = 500;

#[derive(Deserialize, Default, Clone)]
pub struct InboxQuery {
    pub view: Option<String>,
    pub status: Option<String>,
    pub queue: Option<String>,
    pub priority: Option<String>,
    pub platform: Option<String>,
    pub language: Option<String>,
    pub sentiment: Option<String>,
    pub intent: Option<String>,
    pub sla: Option<String>,
    pub cursor: Option<String>,
}

impl InboxQuery {
    /// The filters by name, as in the page's URL (the cursor is not a filter).
    pub fn filters(&self) -> [(&'static str, &Option<String>); 9] {
        [
            ("view", &self.view),
            ("queue", &self.queue),
            ("status", &self.status),
            ("priority", &self.priority),
            ("platform", &self.platform),
            ("language", &self.language),
            ("sentiment", &self.sentiment),
            ("intent", &self.intent),
            ("sla", &self.sla),
        ]
    }

    /// The slot of the filter called `name`, if there is one.
    pub fn filter_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "view" => &mut self.view,
            "queue" => &mut self.queue,
            "status" => &mut self.status,
            "priority" => &mut self.priority,
            "platform" => &mut self.platform,
            "language" => &mut self.language,
            "sentiment" => &mut self.sentiment,
            "intent" => &mut self.intent,
            "sla" => &mut self.sla,
            _ => return None,
        })
    }
}

/// Built-in saved views: each is a set of filters under a name.
const VIEWS: &[(&str, &str)] = &[
    ("all", "All open"),
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("breaching", "SLA at risk"),
    ("urgent", "Urgent"),
];

const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "pt", "nl"];

fn bad(field: &str, detail: String) -> Problem {
    Problem::new(ErrorCode::InvalidQuery, detail).with_field(field)
}

fn none_if_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What the inbox shows: the store's filter, and the SLA standings kept (empty: all).
pub struct Parsed {
    pub filter: InboxFilter,
    pub sla: Vec<Standing>,
    pub before: Option<String>,
}

pub fn parse(q: &InboxQuery, who: &Viewer) -> Result<Parsed, Problem> {
    let mut filter = InboxFilter::default();
    let mut standings = Vec::new();
    match none_if_empty(&q.view).unwrap_or("all") {
        "all" => {}
        "mine" => filter.assignee = Some(Some(who.login().to_owned())),
        "unassigned" => filter.assignee = Some(None),
        "breaching" => standings = vec![Standing::Warning, Standing::Breached],
        "urgent" => filter.priority = Some(CasePriority::Urgent),
        v => return Err(bad("view", format!("unknown view `{v}`"))),
    }
    if let Some(s) = none_if_empty(&q.status) {
        filter.status = Some(
            CaseStatus::parse(s).ok_or_else(|| bad("status", format!("unknown status `{s}`")))?,
        );
    }
    if let Some(s) = none_if_empty(&q.priority) {
        filter.priority = Some(
            CasePriority::parse(s)
                .ok_or_else(|| bad("priority", format!("unknown priority `{s}`")))?,
        );
    }
    if let Some(s) = none_if_empty(&q.queue) {
        filter.queue_id = Some(
            sb_domain::QueueId::parse(s)
                .ok_or_else(|| bad("queue", format!("`{s}` is not a queue id")))?,
        );
    }
    if let Some(s) = none_if_empty(&q.platform) {
        filter.source = Some(
            Platform::parse(s).ok_or_else(|| bad("platform", format!("unknown platform `{s}`")))?,
        );
    }
    if let Some(s) = none_if_empty(&q.language) {
        if s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad("language", format!("`{s}` is not a language code")));
        }
        filter.language = Some(s.to_ascii_lowercase());
    }
    if let Some(s) = none_if_empty(&q.sentiment) {
        filter.sentiment = Some(
            SentimentBand::parse(s)
                .ok_or_else(|| bad("sentiment", format!("unknown sentiment `{s}`")))?,
        );
    }
    if let Some(s) = none_if_empty(&q.intent) {
        if !INTENTS.contains(&s) {
            return Err(bad("intent", format!("unknown intent `{s}`")));
        }
        filter.intent = Some(s.to_owned());
    }
    if let Some(s) = none_if_empty(&q.sla) {
        standings =
            vec![Standing::parse(s).ok_or_else(|| bad("sla", format!("unknown SLA state `{s}`")))?];
    }
    let before = none_if_empty(&q.cursor)
        .map(|c| {
            sb_domain::CaseId::parse(c)
                .map(|_| c.to_owned())
                .ok_or_else(|| bad("cursor", "the cursor is not valid".into()))
        })
        .transpose()?;
    Ok(Parsed {
        filter,
        sla: standings,
        before,
    })
}

/// The filters of the page as a saved view holds them (no cursor).
fn current_filters(q: &InboxQuery) -> serde_json::Map<String, serde_json::Value> {
    q.filters()
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), serde_json::Value::from(none_if_empty(v)?))))
        .collect()
}

/// One page of the inbox as a viewer sees it.
pub struct Loaded {
    pub rows: Vec<InboxRow>,
    /// The scan for rows to show stopped at `SLA_SCAN_LIMIT` cases before the page was full.
    pub cut: bool,
    /// The cursor of the next page, while there may be one.
    pub next: Option<String>,
}

/// One page of rows the viewer may see. When rows are left out (an SLA state asked for, or
/// a viewer limited to some regions) the cases are read in chunks until the page is full, so a
/// page is short only at the end (or when the scan stops at `SLA_SCAN_LIMIT`).
pub async fn load(
    state: &AppState,
    parsed: &Parsed,
    who: &Viewer,
    now: Timestamp,
) -> Result<Loaded, Problem> {
    let keep = |r: &InboxRow| {
        who.0.may_read_region(r.case.region.as_deref()).is_ok()
            && (parsed.sla.is_empty()
                || sla::headline(&sla::clocks(r.sla.as_ref()), now)
                    .is_some_and(|c| parsed.sla.contains(&sla::standing(c, now))))
    };
    let last_id = |rows: &[InboxRow]| rows.last().map(|r| r.case.id.to_string());
    if parsed.sla.is_empty() && who.0.regions.is_none() {
        let page = Page {
            before: parsed.before.clone(),
            limit: PAGE_SIZE,
        };
        let mut rows = state.store.inbox(&parsed.filter, &page).await?;
        redact(&mut rows, who);
        let next = (rows.len() == PAGE_SIZE as usize)
            .then(|| last_id(&rows))
            .flatten();
        return Ok(Loaded {
            rows,
            cut: false,
            next,
        });
    }
    let mut out = Vec::new();
    let mut before = parsed.before.clone();
    let mut scanned = 0;
    loop {
        let page = Page {
            before: before.clone(),
            limit: SLA_CHUNK,
        };
        let chunk = state.store.inbox(&parsed.filter, &page).await?;
        let n = chunk.len();
        scanned += n;
        before = last_id(&chunk);
        out.extend(chunk.into_iter().filter(|r| keep(r)));
        let (full, end) = (out.len() >= PAGE_SIZE as usize, n < SLA_CHUNK as usize);
        if full || end || scanned >= SLA_SCAN_LIMIT {
            out.truncate(PAGE_SIZE as usize);
            redact(&mut out, who);
            let next = if full {
                last_id(&out)
            } else if end {
                None
            } else {
                // Stopped short: the next page goes on from the last case checked.
                before
            };
            return Ok(Loaded {
                rows: out,
                cut: !full && !end,
                next,
            });
        }
    }
}

/// Without `personal.read` the subject (a customer's words) is hidden, as the API hides it.
fn redact(rows: &mut [InboxRow], who: &Viewer) {
    if !who.personal() {
        for r in rows {
            r.case.subject = crate::redact::HIDDEN.to_owned();
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    query: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match crate::api::query(query) {
        Ok(q) => q,
        Err(e) => return error_page(Some(&who), &e),
    };
    let parsed = match parse(&q, &who) {
        Ok(p) => p,
        Err(e) => return error_page(Some(&who), &e),
    };
    let now = SystemClock.now();
    let Loaded { rows, cut, next } = match load(&state, &parsed, &who, now).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&who), &e),
    };
    let queues = match state.store.queues().await {
        Ok(q) => q,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let saved = match state
        .store
        .views_for(&who.0.actor, crate::api::views::LIST_LIMIT)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let names: HashMap<String, String> = queues
        .iter()
        .map(|q| (q.id.to_string(), q.name.clone()))
        .collect();
    let view = none_if_empty(&q.view).unwrap_or("all");
    let here = crate::api::views::href(&current_filters(&q));
    let body = html! {
        div.inbox-head {
            h1 { "Inbox" }
            span #live.live title="New cases appear here as they arrive" { "live" }
            span.hint { kbd { "j" } "/" kbd { "k" } " move · " kbd { "Enter" } " open · " kbd { "/" } " filter" }
        }
        nav.views aria-label="Views" {
            @for (key, name) in VIEWS {
                a.active[*key == view && q.queue.is_none()] href={ "/ui/inbox?view=" (key) } { (name) }
            }
            @for queue in &queues {
                a.active[q.queue.as_deref() == Some(queue.id.as_str())] href={ "/ui/inbox?queue=" (queue.id.as_str()) } { "Queue: " (queue.name) }
            }
            span #saved-views {
                @for v in &saved {
                    @let link = crate::api::views::href(&v.filters);
                    @let mine = v.owner == who.0.actor;
                    a.saved.active[link == here] href=(link) title=(if mine { "Your view" } else { "Shared by the team" }) {
                        (v.name) @if v.shared { " ·" span.shared-mark aria-label="shared" { "shared" } }
                    }
                    @if mine {
                        button.forget type="button" data-view=(v.id) title="Delete this view" aria-label={ "Delete the view " (v.name) } { "×" }
                    }
                }
            }
            form #save-view.inline {
                input #save-view-name type="text" placeholder="Name these filters" aria-label="Name of the view to save" maxlength="40";
                label.inline { input #save-view-shared type="checkbox"; " share" }
                button type="submit" { "Save view" }
            }
        }
        (filters(&q, &queues))
        @if cut {
            p.notice { "Only 5,000 cases were checked for this page. “Older cases” checks the next ones; narrower filters find them sooner." }
        }
        table #inbox.cases data-query=(raw.unwrap_or_default()) {
            thead { tr {
                th { "Priority" } th { "Case" } th { "Platform" } th { "Lang" } th { "Sentiment" }
                th { "Intent" } th { "Status" } th { "Queue" } th { "Assignee" } th { "SLA" } th { "Last message" }
            } }
            tbody #inbox-rows { (row_list(&rows, &names, now)) }
        }
        @if rows.is_empty() {
            p.empty { "No cases match." }
        }
        @if let Some(c) = next {
            p.pager { a #older href=(older_link(&q, &c)) { "Older cases →" } }
        }
    };
    layout(Some(&who), "Inbox", "inbox", body).into_response()
}

fn older_link(q: &InboxQuery, cursor: &str) -> String {
    let mut parts = Vec::new();
    for (k, v) in q.filters() {
        if let Some(v) = none_if_empty(v) {
            parts.push(format!("{k}={}", super::encode(v)));
        }
    }
    parts.push(format!("cursor={}", super::encode(cursor)));
    format!("/ui/inbox?{}", parts.join("&"))
}

fn select(name: &str, title: &str, current: Option<&str>, options: &[(String, String)]) -> Markup {
    html! {
        label {
            span { (title) }
            select name=(name) {
                option value="" { "any" }
                @for (value, text) in options {
                    option value=(value) selected[current == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

fn same(v: &[&str]) -> Vec<(String, String)> {
    v.iter()
        .map(|s| ((*s).to_owned(), (*s).to_owned()))
        .collect()
}

fn filters(q: &InboxQuery, queues: &[Queue]) -> Markup {
    let statuses: Vec<(String, String)> = CaseStatus::OPEN_STATES
        .iter()
        .chain(&[CaseStatus::Resolved, CaseStatus::Closed])
        .map(|s| (s.as_str().to_owned(), s.as_str().replace('_', " ")))
        .collect();
    let platforms: Vec<(String, String)> = Platform::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), p.as_str().to_owned()))
        .collect();
    let queue_opts: Vec<(String, String)> = queues
        .iter()
        .map(|x| (x.id.to_string(), x.name.clone()))
        .collect();
    let sla_opts: Vec<(String, String)> = [
        Standing::OnTrack,
        Standing::Warning,
        Standing::Breached,
        Standing::Paused,
        Standing::Fulfilled,
    ]
    .iter()
    .map(|s| (s.as_str().to_owned(), s.as_str().replace('_', " ")))
    .collect();
    html! {
        form #filters.filters method="get" action="/ui/inbox" {
            @if let Some(v) = none_if_empty(&q.view) { input type="hidden" name="view" value=(v); }
            (select("status", "Status", none_if_empty(&q.status), &statuses))
            (select("priority", "Priority", none_if_empty(&q.priority), &same(&["low", "normal", "high", "urgent"])))
            (select("queue", "Queue", none_if_empty(&q.queue), &queue_opts))
            (select("platform", "Platform", none_if_empty(&q.platform), &platforms))
            (select("language", "Language", none_if_empty(&q.language), &same(LANGUAGES)))
            (select("sentiment", "Sentiment", none_if_empty(&q.sentiment), &same(&["negative", "neutral", "positive"])))
            (select("intent", "Intent", none_if_empty(&q.intent), &same(&INTENTS)))
            (select("sla", "SLA", none_if_empty(&q.sla), &sla_opts))
            button type="submit" { "Filter" }
            a.reset href="/ui/inbox" { "Reset" }
        }
    }
}

pub fn row_list(rows: &[InboxRow], queues: &HashMap<String, String>, now: Timestamp) -> Markup {
    html! {
        @for r in rows {
            @let c = &r.case;
            @let clocks = sla::clocks(r.sla.as_ref());
            @let href = format!("/ui/cases/{}", c.id);
            tr.case-row data-id=(c.id.as_str()) data-href=(href) tabindex="-1" {
                td { span class={ "badge prio-" (c.priority.as_str()) } { (c.priority.as_str()) } }
                td.subject { a href=(href) { (c.subject) } }
                td { span class={ "badge platform platform-" (c.source.as_str()) } { (c.source.as_str()) } }
                td { (c.language.as_deref().unwrap_or("–")) }
                td { span class={ "badge sent-" (sentiment_band(c.last_sentiment)) } { (sentiment_band(c.last_sentiment)) } }
                td { (r.intent.as_deref().unwrap_or("–")) }
                td { span class={ "badge status-" (label(&c.status)) } { (label(&c.status).replace('_', " ")) } }
                td { (c.queue_id.as_ref().and_then(|q| queues.get(q.as_str())).map_or("–", String::as_str)) }
                td { (c.assignee.as_deref().unwrap_or("–")) }
                td { @if let Some(clock) = sla::headline(&clocks, now) { (sla::badge(clock, now)) } @else { "–" } }
                td { (ago(c.last_message_at, now)) }
            }
        }
    }
}

/// The rows alone, for the page's script to swap in when cases arrive or change.
pub async fn rows(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    query: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match crate::api::query(query) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let parsed = match parse(&q, &who) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let now = SystemClock.now();
    let loaded = load(&state, &parsed, &who, now).await;
    let queues = state.store.queues().await;
    match (loaded, queues) {
        (Ok(Loaded { rows, .. }), Ok(queues)) => {
            let names: HashMap<String, String> = queues
                .iter()
                .map(|q| (q.id.to_string(), q.name.clone()))
                .collect();
            Html(row_list(&rows, &names, now).into_string()).into_response()
        }
        (Err(e), _) => e.into_response(),
        (_, Err(e)) => Problem::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;

    fn agent() -> Viewer {
        Viewer(Principal::user("ana", sb_domain::Role::Agent))
    }

    #[test]
    fn filters_read_from_the_query_and_bad_ones_are_named() {
        let q = InboxQuery {
            view: Some("mine".into()),
            platform: Some("twitter".into()),
            sentiment: Some("negative".into()),
            sla: Some("warning".into()),
            ..InboxQuery::default()
        };
        let p = parse(&q, &agent()).unwrap_or_else(|e| panic!("{}", e.detail()));
        assert_eq!(p.filter.assignee, Some(Some("ana".into())));
        assert_eq!(p.filter.source, Some(Platform::X));
        assert_eq!(p.filter.sentiment, Some(SentimentBand::Negative));
        assert_eq!(p.sla, vec![Standing::Warning]);
        for (field, q) in [
            (
                "status",
                InboxQuery {
                    status: Some("sleeping".into()),
                    ..InboxQuery::default()
                },
            ),
            (
                "platform",
                InboxQuery {
                    platform: Some("myspace".into()),
                    ..InboxQuery::default()
                },
            ),
            (
                "sla",
                InboxQuery {
                    sla: Some("late".into()),
                    ..InboxQuery::default()
                },
            ),
            (
                "language",
                InboxQuery {
                    language: Some("<b>".into()),
                    ..InboxQuery::default()
                },
            ),
            (
                "view",
                InboxQuery {
                    view: Some("secret".into()),
                    ..InboxQuery::default()
                },
            ),
        ] {
            match parse(&q, &agent()) {
                Err(e) => assert_eq!(e.code(), "invalid_query", "{field}"),
                Ok(_) => panic!("{field} was accepted"),
            }
        }
    }

    #[test]
    fn the_older_link_keeps_the_filters() {
        let q = InboxQuery {
            intent: Some("complaint".into()),
            ..InboxQuery::default()
        };
        assert_eq!(
            older_link(&q, "c_01"),
            "/ui/inbox?intent=complaint&cursor=c_01"
        );
    }
}
