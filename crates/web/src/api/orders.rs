//! Traceable order tagging (F6): the order system reports orders and what became of them;
//! each is tagged with where it came from — the social case that led to it (so its platform
//! and customer) and the campaign code of the link the customer followed — so that fulfilment
//! errors and returns can be attributed to social channels and campaigns
//! (`GET /api/v1/reports/attribution`).

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sb_domain::{CaseId, Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::reports::OrderRecord;
use serde::{Deserialize, Serialize};

pub const OUTCOMES: [&str; 5] = [
    "placed",
    "fulfilled",
    "returned",
    "fulfilment_error",
    "cancelled",
];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderReport {
    /// The order system's id (1–128 characters).
    pub order_id: String,
    /// The case the order came from, e.g. from a case reference in a reply's link.
    pub case_id: Option<String>,
    /// The campaign code of the link the customer followed (letters, digits, `-`, `_`, `.`).
    pub campaign: Option<String>,
    /// Order value, at least 0.
    pub value: Option<f64>,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: Option<String>,
    /// `placed` (default for a new order), `fulfilled`, `returned`, `fulfilment_error`, `cancelled`.
    pub outcome: Option<String>,
    /// When the order was placed (RFC 3339); default now for a new order.
    pub placed_at: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub case_id: Option<String>,
    pub customer_id: Option<String>,
    pub platform: Option<String>,
    pub campaign: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub outcome: String,
    /// `origin:<platform>`, `campaign:<code>`, `case:<id>`.
    pub tags: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

fn view(o: OrderRecord) -> OrderView {
    OrderView {
        tags: serde_json::from_str(&o.tags).unwrap_or_default(),
        order_id: o.order_id,
        case_id: o.case_id,
        customer_id: o.customer_id,
        platform: o.platform,
        campaign: o.campaign,
        value: o.value,
        currency: o.currency,
        outcome: o.outcome,
        placed_at: Timestamp(o.placed_at),
        updated_at: Timestamp(o.updated_at),
    }
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn code_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[utoipa::path(
    post, path = "/api/v1/orders", tag = "status",
    request_body = OrderReport,
    responses(
        (status = 201, description = "A new order, stored with its attribution tags", body = OrderView),
        (status = 200, description = "An order already reported: its outcome and details updated", body = OrderView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A field out of range (`invalid_field`) or a case that does not exist (`unknown_case`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: OrderReport = crate::body::json_as(
        raw,
        "{\"order_id\", \"case_id\"?, \"campaign\"?, \"value\"?, \"currency\"?, \"outcome\"?, \"placed_at\"?}",
    )?;
    let order_id = req.order_id.trim();
    if order_id.is_empty() || order_id.chars().count() > 128 {
        return Err(invalid(
            "order_id",
            "`order_id` must be 1 to 128 characters",
        ));
    }
    if let Some(c) = &req.campaign
        && !code_like(c)
    {
        return Err(invalid(
            "campaign",
            "`campaign` is letters, digits, `-`, `_` and `.`, at most 64",
        ));
    }
    if let Some(v) = req.value
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(invalid("value", "`value` must be a number of at least 0"));
    }
    if let Some(c) = &req.currency
        && !(c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase()))
    {
        return Err(invalid(
            "currency",
            "`currency` is an ISO 4217 code such as `EUR`",
        ));
    }
    if let Some(o) = &req.outcome
        && !OUTCOMES.contains(&o.as_str())
    {
        return Err(invalid(
            "outcome",
            format!("`outcome` must be one of {}", OUTCOMES.join(", ")),
        ));
    }
    let placed_at = req
        .placed_at
        .as_deref()
        .map(|t| {
            Timestamp::parse_rfc3339(t)
                .ok_or_else(|| invalid("placed_at", "`placed_at` must be an RFC 3339 time"))
        })
        .transpose()?;
    let case = match &req.case_id {
        None => None,
        Some(raw) => {
            let id = CaseId::parse(raw.trim())
                .ok_or_else(|| invalid("case_id", format!("`{raw}` is not a case id")))?;
            Some(state.store.case(&id).await?.ok_or_else(|| {
                Problem::custom(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_case",
                    format!("no case `{id}`"),
                )
                .with_field("case_id")
            })?)
        }
    };
    let now = SystemClock.now();
    let before = state.store.order(order_id).await?;
    // What a later report leaves out, the earlier one said.
    let case_id = case
        .as_ref()
        .map(|c| c.id.to_string())
        .or_else(|| before.as_ref().and_then(|b| b.case_id.clone()));
    let (platform, customer_id) = match &case {
        Some(c) => (
            Some(c.source.as_str().to_owned()),
            Some(c.customer_id.to_string()),
        ),
        None => (
            before.as_ref().and_then(|b| b.platform.clone()),
            before.as_ref().and_then(|b| b.customer_id.clone()),
        ),
    };
    let campaign = req
        .campaign
        .clone()
        .or_else(|| before.as_ref().and_then(|b| b.campaign.clone()));
    let mut tags = Vec::new();
    if let Some(p) = &platform {
        tags.push(format!("origin:{p}"));
    }
    if let Some(c) = &campaign {
        tags.push(format!("campaign:{c}"));
    }
    if let Some(c) = &case_id {
        tags.push(format!("case:{c}"));
    }
    let record = OrderRecord {
        order_id: order_id.to_owned(),
        case_id,
        customer_id,
        platform,
        campaign,
        value: req.value.or_else(|| before.as_ref().and_then(|b| b.value)),
        currency: req
            .currency
            .clone()
            .or_else(|| before.as_ref().and_then(|b| b.currency.clone())),
        outcome: req
            .outcome
            .clone()
            .or_else(|| before.as_ref().map(|b| b.outcome.clone()))
            .unwrap_or_else(|| "placed".into()),
        tags: serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
        placed_at: placed_at
            .map(|t| t.millis())
            .or_else(|| before.as_ref().map(|b| b.placed_at))
            .unwrap_or(now.millis()),
        updated_at: now.millis(),
    };
    let new = state.store.put_order(&record).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(record))).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/orders/{id}", tag = "status",
    params(("id" = String, Path, description = "The order system's id")),
    responses(
        (status = 200, description = "The order with its attribution tags", body = OrderView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, Problem> {
    let o = state
        .store
        .order(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no order `{id}`")))?;
    Ok(Json(view(o)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributionParams {
    /// Orders placed from (YYYY-MM-DD or RFC 3339); default 30 days before `to`.
    from: Option<String>,
    /// Placed before (exclusive); default now.
    to: Option<String>,
    /// `platform` (default), `campaign` or `all`.
    group_by: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttributionRow {
    /// The platform, the campaign, or `all`; `none` for orders without one.
    pub group: String,
    pub orders: i64,
    pub value: f64,
    pub fulfilled: i64,
    pub returned: i64,
    pub fulfilment_errors: i64,
    pub cancelled: i64,
    /// `100 × fulfilment_errors / orders`.
    pub error_pct: f64,
    /// `100 × returned / orders`.
    pub return_pct: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttributionReport {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub rows: Vec<AttributionRow>,
}

fn pct(n: i64, of: i64) -> f64 {
    if of == 0 {
        0.0
    } else {
        (1000.0 * n as f64 / of as f64).round() / 10.0
    }
}

#[utoipa::path(
    get, path = "/api/v1/reports/attribution", tag = "reports",
    params(AttributionParams),
    responses(
        (status = 200, description = "Orders placed in the period per origin platform or campaign, with value, fulfilment errors and returns (JSON, or CSV when asked)", content((AttributionReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A date, grouping or format that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn attribution(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<AttributionParams>, QueryRejection>,
) -> Result<Response, Problem> {
    use super::reports::{bad, csv_response, span, wants_csv};
    let q = crate::api::query(q)?;
    let (from, to) = span(q.from.as_deref(), q.to.as_deref(), state.casework.now())?;
    let dim = q.group_by.as_deref().unwrap_or("platform");
    if !matches!(dim, "platform" | "campaign" | "all") {
        return Err(bad(
            "group_by",
            format!("`group_by` must be `platform`, `campaign` or `all`, got `{dim}`"),
        ));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let rows: Vec<AttributionRow> = state
        .store
        .order_sums(from, to, dim)
        .await?
        .into_iter()
        .map(|s| AttributionRow {
            error_pct: pct(s.errors, s.orders),
            return_pct: pct(s.returned, s.orders),
            group: s.grp,
            orders: s.orders,
            value: s.value,
            fulfilled: s.fulfilled,
            returned: s.returned,
            fulfilment_errors: s.errors,
            cancelled: s.cancelled,
        })
        .collect();
    if csv {
        let mut body = String::from(
            "group,orders,value,fulfilled,returned,fulfilment_errors,cancelled,error_pct,return_pct\n",
        );
        for r in &rows {
            body.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                sb_analytics::csv::field(&r.group),
                r.orders,
                r.value,
                r.fulfilled,
                r.returned,
                r.fulfilment_errors,
                r.cancelled,
                r.error_pct,
                r.return_pct
            ));
        }
        return Ok(csv_response(body, None));
    }
    Ok(Json(AttributionReport {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        group_by: dim.to_owned(),
        rows,
    })
    .into_response())
}
