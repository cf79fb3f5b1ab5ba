//! The sign-in page. The form posts to `POST /api/v1/session` from the page's script, which
//! keeps the rate limit, the audit entry and the cookie in one place; signing out is
//! `DELETE /api/v1/session` from the header's button.

use super::layout;
use axum::extract::Query;
use axum::response::Html;
use maud::html;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only a path inside the UI is a place to go back to, never another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/ui/inbox",
    }
}

pub async fn page(
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Html<String> {
    let query = query.ok();
    let next = query.as_ref().and_then(|q| q.next.as_deref());
    let next = safe_next(next);
    layout(
        None,
        "Sign in",
        "",
        html! {
            section.login-box {
                h1 { "Sign in" }
                form #login-form data-next=(next) {
                    label for="login" { "Login" }
                    input #login name="login" type="text" autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                    p #login-error.error role="alert" {}
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_inside_the_ui_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/ui/cases/c_1")), "/ui/cases/c_1");
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui/inbox");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/inbox");
        assert_eq!(safe_next(None), "/ui/inbox");
    }
}
