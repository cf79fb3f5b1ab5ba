//! Recurring negative themes (H2): words over-represented in the negative messages of a
//! period, clustered by co-occurrence, with example messages for root-cause work. Found in a
//! bounded sample of the period's most recent messages (`sb_analytics::themes`); definitions
//! in docs/METRICS.md (*Negative themes*).

use super::{bad, span};
use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use sb_analytics::themes::{ThemeConfig, ThemeDoc, ThemeTerm, themes};
use sb_domain::{Permission, PiiMark, Timestamp};
use serde::{Deserialize, Serialize};

pub const DEFAULT_SAMPLE: u32 = 5_000;
pub const MAX_SAMPLE: u32 = 50_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThemeParams {
    /// First day (YYYY-MM-DD or RFC 3339); default 30 days before `to`.
    from: Option<String>,
    /// End, exclusive; default now.
    to: Option<String>,
    /// Most recent messages of the period examined, 100–50000 (default 5000).
    #[param(minimum = 100, maximum = 50000)]
    sample: Option<u32>,
    /// Fewest negative messages a term and a theme need (default 3).
    #[param(minimum = 2, maximum = 10000)]
    min_messages: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThemeExample {
    pub message_id: String,
    pub platform: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Personal data replaced by its kind for callers without `personal.read`.
    pub text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThemeRow {
    /// Most frequent first: the first is the theme's seed.
    #[schema(value_type = Vec<Object>)]
    pub terms: Vec<ThemeTerm>,
    /// Negative messages of the sample that carry the theme.
    pub messages: usize,
    /// `100 × messages / negative messages of the sample`.
    pub share_pct: f64,
    pub examples: Vec<ThemeExample>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThemeReport {
    pub from: String,
    pub to: String,
    /// Messages examined: the most recent of the period, up to `sample`.
    pub sampled: usize,
    /// Of which negative.
    pub negative: usize,
    /// Most messages first.
    pub themes: Vec<ThemeRow>,
}

#[utoipa::path(
    get, path = "/api/v1/reports/themes", tag = "reports",
    params(ThemeParams),
    responses(
        (status = 200, description = "Recurring negative themes of the period: clustered terms, messages, share and examples", body = ThemeReport),
        (status = 400, description = "A date, sample size or minimum that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn themes_report(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    q: Result<Query<ThemeParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let (from, to) = span(q.from.as_deref(), q.to.as_deref(), state.casework.now())?;
    let sample = q.sample.unwrap_or(DEFAULT_SAMPLE);
    if !(100..=MAX_SAMPLE).contains(&sample) {
        return Err(bad(
            "sample",
            format!("`sample` must be between 100 and {MAX_SAMPLE}"),
        ));
    }
    let defaults = ThemeConfig::default();
    let min_messages = q.min_messages.unwrap_or(defaults.min_messages);
    if !(2..=10_000).contains(&min_messages) {
        return Err(bad(
            "min_messages",
            "`min_messages` must be between 2 and 10000",
        ));
    }
    let rows: Vec<_> = state
        .store
        .theme_sample(from, to, sample)
        .await?
        .into_iter()
        // A region-limited caller sees themes of their regions' messages only.
        .filter(|r| who.may_read_region(r.region.as_deref()).is_ok())
        .collect();
    let marks: Vec<Vec<PiiMark>> = rows
        .iter()
        .map(|r| {
            r.pii
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_default()
        })
        .collect();
    let clean: Vec<String> = rows
        .iter()
        .zip(&marks)
        .map(|(r, pii)| sb_analytics::themes::without_pii(&r.text, pii))
        .collect();
    let docs: Vec<ThemeDoc> = rows
        .iter()
        .zip(&clean)
        .map(|(r, text)| ThemeDoc {
            text,
            negative: r.sentiment_label.as_deref() == Some("negative"),
        })
        .collect();
    let cfg = ThemeConfig {
        min_messages,
        ..defaults
    };
    let found = themes(&docs, &cfg);
    let personal = who.can(Permission::PersonalRead);
    let report = ThemeReport {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        sampled: rows.len(),
        negative: docs.iter().filter(|d| d.negative).count(),
        themes: found
            .into_iter()
            .map(|t| ThemeRow {
                examples: t
                    .examples
                    .iter()
                    .map(|&i| ThemeExample {
                        message_id: rows[i].id.clone(),
                        platform: rows[i].source.clone(),
                        created_at: Timestamp(rows[i].created_at),
                        text: if personal {
                            rows[i].text.clone()
                        } else {
                            crate::redact::text(&rows[i].text, &marks[i])
                        },
                    })
                    .collect(),
                terms: t.terms,
                messages: t.messages,
                share_pct: t.share_pct,
            })
            .collect(),
    };
    Ok(AuditNote::default()
        .subject(format!(
            "report:themes:{}..{}",
            from.to_rfc3339(),
            to.to_rfc3339()
        ))
        .on(Json(report).into_response()))
}
