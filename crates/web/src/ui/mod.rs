//! The web UI (I2): server-rendered pages for agents, supervisors, operations and
//! administrators, one file per page. Pages render from the store; every change a page makes
//! goes through `/api/v1` from the UI's own script (`assets/app.js`), so permissions, CSRF and
//! the audit trail stay in one place. Live updates come from `GET /api/v1/events`.
//!
//! Every page is listed in [`PAGES`] with the one permission it needs, enforced by [`guard`]:
//! no session → the login page, a missing permission → a 403 page. Pages never load anything
//! from another origin, and every answer carries a strict `Content-Security-Policy`.

mod admin;
mod alerts;
mod case;
mod charts;
mod connectors;
mod dashboard;
pub(crate) mod inbox;
mod login;
mod sla;

use crate::AppState;
use crate::access::{Audit, Need};
use crate::auth::{self, Principal};
use crate::problem::Problem;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use sb_domain::{Permission, Permission as P, Timestamp};
use std::collections::HashMap;

/// What every UI answer says about where content may come from: this origin only, no inline
/// script or style, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// One page and who may see it.
pub struct PageAccess {
    pub path: &'static str,
    pub need: Need,
    /// Pages that show personal data are written to the audit trail, as the API's reads are.
    pub audit: Audit,
}

const fn page(path: &'static str, need: Need, audit: Audit) -> PageAccess {
    PageAccess { path, need, audit }
}

const fn p(p: Permission) -> Need {
    Need::Permission(p)
}

/// Every UI route, by the path template the router declares. A route missing here is refused.
pub static PAGES: &[PageAccess] = &[
    page("/", Need::Public, Audit::No),
    page("/ui", Need::Public, Audit::No),
    page("/ui/", Need::Public, Audit::No),
    page("/ui/login", Need::Public, Audit::No),
    page("/ui/assets/app.js", Need::Public, Audit::No),
    page("/ui/assets/app.css", Need::Public, Audit::No),
    page("/ui/inbox", p(P::CasesRead), Audit::No),
    page("/ui/inbox/rows", p(P::CasesRead), Audit::No),
    page("/ui/cases/{id}", p(P::CasesRead), Audit::Yes),
    page("/ui/cases/{id}/sla", p(P::CasesRead), Audit::No),
    page("/ui/dashboard", p(P::ReportsRead), Audit::No),
    page("/ui/alerts", p(P::AlertsRead), Audit::No),
    page("/ui/incidents/{id}", p(P::IncidentsRead), Audit::No),
    page("/ui/connectors", p(P::ConnectorsRead), Audit::No),
    page("/ui/admin/users", p(P::UsersManage), Audit::Yes),
    page("/ui/admin/keys", p(P::KeysManage), Audit::Yes),
    page("/ui/admin/workflow", p(P::RulesTest), Audit::No),
    page("/ui/admin/templates", p(P::RepliesApprove), Audit::No),
    page("/ui/admin/rules", p(P::RulesTest), Audit::No),
    page("/ui/admin/watchlists", p(P::AlertsRead), Audit::No),
    page("/ui/admin/retention", p(P::PrivacyManage), Audit::No),
];

pub fn lookup(path: &str) -> Option<&'static PageAccess> {
    PAGES.iter().find(|p| p.path == path)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/inbox") }))
        .route("/ui", get(|| async { Redirect::to("/ui/inbox") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/inbox") }))
        .route("/ui/login", get(login::page))
        .route("/ui/assets/app.js", get(script))
        .route("/ui/assets/app.css", get(style))
        .route("/ui/inbox", get(inbox::page))
        .route("/ui/inbox/rows", get(inbox::rows))
        .route("/ui/cases/{id}", get(case::page))
        .route("/ui/cases/{id}/sla", get(case::sla_panel))
        .route("/ui/dashboard", get(dashboard::page))
        .route("/ui/alerts", get(alerts::page))
        .route("/ui/incidents/{id}", get(alerts::incident))
        .route("/ui/connectors", get(connectors::page))
        .route("/ui/admin/users", get(admin::users))
        .route("/ui/admin/keys", get(admin::keys))
        .route("/ui/admin/workflow", get(admin::workflow))
        .route("/ui/admin/templates", get(admin::templates))
        .route("/ui/admin/rules", get(admin::rules))
        .route("/ui/admin/watchlists", get(admin::watchlists))
        .route("/ui/admin/retention", get(admin::retention))
}

/// The routes behind the page guard, with the security headers on every answer, the guard's
/// refusals included.
pub fn with_guard(state: &AppState) -> Router<AppState> {
    routes()
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::middleware::map_response(secure_headers))
}

async fn secure_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, ctype: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    res
}

/// The signed-in user a page is for.
#[derive(Clone, Debug)]
pub struct Viewer(pub Principal);

impl Viewer {
    pub fn can(&self, p: Permission) -> bool {
        self.0.can(p)
    }

    /// Whether names, handles and message texts are shown, or redacted as the API redacts them.
    pub fn personal(&self) -> bool {
        self.0.can(P::PersonalRead)
    }

    pub fn login(&self) -> &str {
        self.0
            .actor
            .strip_prefix("user:")
            .unwrap_or(self.0.actor.as_str())
    }
}

/// Checks the page's permission for the session's user, then writes the view to the audit
/// trail when the page shows personal data.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(entry) = lookup(&route) else {
        return forbidden(None, "no permission is defined for this page");
    };
    if entry.need == Need::Public {
        return next.run(req).await;
    }
    let who = match auth::session_user(&state, req.headers()).await {
        Ok(Some(p)) => Viewer(p),
        Ok(None) => return to_login(req.uri()),
        Err(e) => return error_page(None, &e),
    };
    if let Need::Permission(needed) = entry.need
        && !who.can(needed)
    {
        return forbidden(
            Some(&who),
            &format!(
                "the {} role may not open this page (needs `{needed}`)",
                who.0.role
            ),
        );
    }
    let from = auth::origin(&req);
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(who.clone());
    let res = next.run(req).await;
    if entry.audit == Audit::Yes {
        let note = res.extensions().get::<crate::audit::AuditNote>().cloned();
        if let Err(e) = crate::audit::record(
            &state,
            Some((who.0.actor.clone(), who.0.role)),
            &Method::GET,
            entry.path,
            &path,
            from,
            res.status(),
            note,
        )
        .await
        {
            return error_page(Some(&who), &e);
        }
    }
    res
}

fn to_login(uri: &axum::http::Uri) -> Response {
    let next = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/ui/inbox");
    Redirect::to(&format!("/ui/login?next={}", encode(next))).into_response()
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 403 page.
pub fn forbidden(who: Option<&Viewer>, why: &str) -> Response {
    let body = html! {
        section.notice.refused role="alert" {
            h1 { "Not allowed" }
            p { (why) }
            p { a href="/ui/inbox" { "Back to the inbox" } }
        }
    };
    (StatusCode::FORBIDDEN, layout(who, "Not allowed", "", body)).into_response()
}

/// A page for an error the store or a check reported.
pub fn error_page(who: Option<&Viewer>, e: &Problem) -> Response {
    let status = e.status();
    let body = html! {
        section.notice role="alert" {
            h1 { (status.canonical_reason().unwrap_or("Error")) }
            p { (e.detail()) }
        }
    };
    (status, layout(who, "Error", "", body)).into_response()
}

struct NavItem {
    href: &'static str,
    label: &'static str,
    need: Permission,
    key: &'static str,
}

const NAV: &[NavItem] = &[
    NavItem {
        href: "/ui/inbox",
        label: "Inbox",
        need: P::CasesRead,
        key: "inbox",
    },
    NavItem {
        href: "/ui/dashboard",
        label: "Dashboard",
        need: P::ReportsRead,
        key: "dashboard",
    },
    NavItem {
        href: "/ui/alerts",
        label: "Alerts & incidents",
        need: P::AlertsRead,
        key: "alerts",
    },
    NavItem {
        href: "/ui/connectors",
        label: "Connectors",
        need: P::ConnectorsRead,
        key: "connectors",
    },
    NavItem {
        href: "/ui/admin/workflow",
        label: "Workflow",
        need: P::RulesTest,
        key: "workflow",
    },
    NavItem {
        href: "/ui/admin/rules",
        label: "Rules",
        need: P::RulesTest,
        key: "rules",
    },
    NavItem {
        href: "/ui/admin/watchlists",
        label: "Watchlists",
        need: P::AlertsRead,
        key: "watchlists",
    },
    NavItem {
        href: "/ui/admin/templates",
        label: "Templates",
        need: P::RepliesApprove,
        key: "templates",
    },
    NavItem {
        href: "/ui/admin/users",
        label: "Users",
        need: P::UsersManage,
        key: "users",
    },
    NavItem {
        href: "/ui/admin/keys",
        label: "API keys",
        need: P::KeysManage,
        key: "keys",
    },
    NavItem {
        href: "/ui/admin/retention",
        label: "Retention",
        need: P::PrivacyManage,
        key: "retention",
    },
];

/// The frame of every page: the navigation the viewer may use, who they are, the CSRF token
/// the script sends with changes, and the page's own content.
pub fn layout(who: Option<&Viewer>, title: &str, active: &str, content: Markup) -> Html<String> {
    let csrf = who.and_then(|w| w.0.csrf_token()).unwrap_or_default();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { (title) " · Switchboard" }
                link rel="stylesheet" href="/ui/assets/app.css";
                script src="/ui/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/ui/inbox" { "Switchboard" }
                    @if let Some(w) = who {
                        nav aria-label="Main" {
                            @for item in NAV {
                                @if w.can(item.need) {
                                    a.active[item.key == active] href=(item.href) { (item.label) }
                                }
                            }
                        }
                        span.whoami {
                            span.login { (w.login()) }
                            " "
                            span.badge.role { (w.0.role.as_str()) }
                            " "
                            button #logout type="button" { "Sign out" }
                        }
                    }
                }
                main #main { (content) }
                div #toast role="status" aria-live="polite" {}
            }
        }
    };
    Html(markup.into_string())
}

/// Who acted, as a page names them: an API key (`key:…`) by the name it was issued with, its
/// id on hover; anyone else as recorded. Keys are read once a page, and only when a key
/// acted; one that cannot be found (the configured admin key) stays as recorded.
pub struct Actors(HashMap<String, String>);

impl Actors {
    pub async fn of(state: &AppState, actors: &[&str]) -> Self {
        if !actors.iter().any(|a| a.starts_with("key:")) {
            return Self(HashMap::new());
        }
        let keys = state.store.api_keys().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot name keys on a page");
            Vec::new()
        });
        let names = keys
            .into_iter()
            .map(|k| (format!("key:{}", k.id), k.name))
            .filter(|(actor, _)| actors.contains(&actor.as_str()))
            .collect();
        Self(names)
    }

    pub fn show(&self, actor: &str) -> Markup {
        match self.0.get(actor) {
            Some(name) => html! { span.actor title=(actor) { (name) } },
            None => html! { (actor) },
        }
    }
}

/// `2026-12-02 05:38` (UTC).
pub fn when(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    let s = s.replace('T', " ");
    s.get(..16).map(str::to_owned).unwrap_or(s)
}

/// `4m`, `3h 12m`, `2d 5h`: a duration for people.
pub fn span(ms: i64) -> String {
    let secs = ms.abs() / 1000;
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A `<time>` with the instant for scripts and a readable age for people.
pub fn ago(t: Timestamp, now: Timestamp) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) title=(when(t)) { (span(now.millis() - t.millis())) " ago" }
    }
}

/// The wire name of a serde enum (`on_hold`, `complaint`).
pub fn label<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A sentiment score as a band for badges and filters.
pub fn sentiment_band(score: Option<f64>) -> &'static str {
    match score {
        Some(s) if s <= -0.05 => "negative",
        Some(s) if s >= 0.05 => "positive",
        Some(_) => "neutral",
        None => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ui_route_has_one_page_entry() {
        for (i, a) in PAGES.iter().enumerate() {
            assert!(
                PAGES[i + 1..].iter().all(|b| b.path != a.path),
                "{} is listed twice",
                a.path
            );
        }
        assert!(lookup("/ui/admin/users").is_some());
        assert!(lookup("/ui/nowhere").is_none());
    }

    #[test]
    fn pages_that_show_personal_data_are_audited() {
        for path in ["/ui/cases/{id}", "/ui/admin/users", "/ui/admin/keys"] {
            assert_eq!(lookup(path).map(|p| p.audit), Some(Audit::Yes), "{path}");
        }
    }

    #[test]
    fn the_policy_allows_nothing_from_elsewhere_and_no_inline_script() {
        assert!(CSP.contains("default-src 'self'"));
        assert!(CSP.contains("script-src 'self'"));
        assert!(!CSP.contains("unsafe-inline"));
        assert!(!CSP.contains("http"));
    }

    #[test]
    fn the_assets_load_nothing_from_another_origin() {
        for asset in [APP_JS, APP_CSS] {
            assert!(!asset.contains("http://") && !asset.contains("https://"));
            assert!(!asset.contains("@import"));
        }
    }

    #[test]
    fn interpolated_text_is_escaped() {
        let page = layout(
            None,
            "<script>alert(1)</script>",
            "",
            html! { p { ("<img src=x onerror=alert(1)>") } },
        )
        .0;
        assert!(!page.contains("<script>alert(1)"));
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(span(4_000), "4s");
        assert_eq!(span(125_000), "2m 05s");
        assert_eq!(span(3 * 3_600_000 + 12 * 60_000), "3h 12m");
        assert_eq!(span(-(2 * 86_400_000 + 5 * 3_600_000)), "2d 5h");
        assert_eq!(
            encode("/ui/cases/c_1?x=a b&y"),
            "/ui/cases/c_1%3Fx%3Da%20b%26y"
        );
    }
}
