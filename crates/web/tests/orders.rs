//! Traceable order tagging (F6): a customer on X and one on Instagram follow the spring-sale
//! link from a reply and order; a newsletter reader orders too. The order system reports the
//! orders and later what became of them; each order carries its origin, campaign and case
//! as tags, and the attribution report shows the X order's fulfilment error and the Instagram
//! return per platform and per campaign. Erasing a customer unlinks them from the order and
//! keeps its attribution. Bad reports are refused naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OPS: &str = "sb_orders_ops";
const ANALYST: &str = "sb_orders_analyst";
const AGENT: &str = "sb_orders_agent";

async fn case_of(app: &App, source: &str, handle: &str) -> (String, String) {
    let (s, _, v) = app
        .post(
            json!({"source": source, "external_id": format!("{source}-{handle}"),
                     "author": handle, "text": "Is the spring sale still on?"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let m = app.processed(v["id"].as_str().unwrap()).await;
    (
        m["case_id"].as_str().unwrap().to_owned(),
        m["customer_id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn orders_carry_their_social_origin_and_campaign_into_the_attribution_report() {
    let app = spawn_app().await;
    issue_key(&app.store, OPS, "operations", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let (x_case, x_customer) = case_of(&app, "x", "@ida").await;
    let (ig_case, _) = case_of(&app, "instagram", "@uma").await;

    let post = |body: Value| {
        let app = &app;
        async move {
            app.call(Method::POST, "/api/v1/orders", OPS, Some(body))
                .await
        }
    };
    let (s, o1) = post(json!({"order_id": "O-1", "case_id": x_case, "campaign": "spring-sale", "value": 40.0, "currency": "EUR"})).await;
    assert_eq!(s, StatusCode::CREATED, "{o1}");
    assert_eq!(o1["platform"], "x");
    assert_eq!(o1["customer_id"], x_customer.as_str());
    assert_eq!(o1["outcome"], "placed");
    assert_eq!(
        o1["tags"],
        json!(["origin:x", "campaign:spring-sale", format!("case:{x_case}")])
    );
    let (s, _) = post(json!({"order_id": "O-2", "case_id": ig_case, "campaign": "spring-sale", "value": 60.0, "currency": "EUR"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, o3) = post(json!({"order_id": "O-3", "campaign": "newsletter", "value": 25.0})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(o3["tags"], json!(["campaign:newsletter"]));

    // What became of them: the later reports name only the outcome; the rest is kept.
    let (s, o1) = post(json!({"order_id": "O-1", "outcome": "fulfilment_error"})).await;
    assert_eq!(s, StatusCode::OK, "{o1}");
    assert_eq!(
        (o1["value"].as_f64(), o1["platform"].as_str()),
        (Some(40.0), Some("x"))
    );
    let (s, _) = post(json!({"order_id": "O-2", "outcome": "returned"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post(json!({"order_id": "O-3", "outcome": "fulfilled"})).await;
    assert_eq!(s, StatusCode::OK);

    let (s, r) = app
        .call(Method::GET, "/api/v1/reports/attribution", ANALYST, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let groups: Vec<(&str, i64, i64, i64)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap(),
                g["orders"].as_i64().unwrap(),
                g["fulfilment_errors"].as_i64().unwrap(),
                g["returned"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![("instagram", 1, 0, 1), ("none", 1, 0, 0), ("x", 1, 1, 0)]
    );
    let (_, by_campaign) = app
        .call(
            Method::GET,
            "/api/v1/reports/attribution?group_by=campaign",
            ANALYST,
            None,
        )
        .await;
    let spring = &by_campaign["rows"][1];
    assert_eq!(spring["group"], "spring-sale");
    assert_eq!(spring["orders"], 2);
    assert_eq!(spring["value"], 100.0);
    assert_eq!(spring["error_pct"], 50.0);
    assert_eq!(spring["return_pct"], 50.0);
    let r = app
        .http
        .get(format!(
            "{}/api/v1/reports/attribution?group_by=all&format=csv",
            app.url
        ))
        .bearer_auth(ANALYST)
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        vec![
            "group,orders,value,fulfilled,returned,fulfilment_errors,cancelled,error_pct,return_pct",
            "all,3,125,1,1,1,0,33.3,33.3",
        ]
    );

    // Erasing Ida unlinks her from the order; where it came from stays.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{x_customer}/erase"),
            KEY,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, o1) = app.call(Method::GET, "/api/v1/orders/O-1", OPS, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(o1["customer_id"].is_null(), "{o1}");
    assert_eq!(o1["tags"][0], "origin:x");

    let unknown = sb_domain::CaseId::generate().to_string();
    for (body, status, code, field) in [
        (
            json!({"order_id": "", "value": 1.0}),
            422,
            "invalid_field",
            "order_id",
        ),
        (
            json!({"order_id": "O-9", "value": -1.0}),
            422,
            "invalid_field",
            "value",
        ),
        (
            json!({"order_id": "O-9", "outcome": "lost"}),
            422,
            "invalid_field",
            "outcome",
        ),
        (
            json!({"order_id": "O-9", "currency": "euro"}),
            422,
            "invalid_field",
            "currency",
        ),
        (
            json!({"order_id": "O-9", "campaign": "spring sale"}),
            422,
            "invalid_field",
            "campaign",
        ),
        (
            json!({"order_id": "O-9", "case_id": "nope"}),
            422,
            "invalid_field",
            "case_id",
        ),
        (
            json!({"order_id": "O-9", "case_id": unknown}),
            422,
            "unknown_case",
            "case_id",
        ),
        (
            json!({"order_id": "O-9", "placed_at": "yesterday"}),
            422,
            "invalid_field",
            "placed_at",
        ),
    ] {
        let (s, p) = post(body.clone()).await;
        assert_eq!(
            (s.as_u16(), p["code"].as_str(), p["field"].as_str()),
            (status, Some(code), Some(field)),
            "{body}: {p}"
        );
    }
    let (s, p) = post(json!({"value": 3.0})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    let (s, _) = app.call(Method::GET, "/api/v1/orders/O-9", OPS, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing half-written");
    let (s, _) = app
        .call(
            Method::POST,
            "/api/v1/orders",
            AGENT,
            Some(json!({"order_id": "O-5"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = app
        .call(
            Method::GET,
            "/api/v1/reports/attribution?group_by=colour",
            ANALYST,
            None,
        )
        .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("group_by"))
    );
}
