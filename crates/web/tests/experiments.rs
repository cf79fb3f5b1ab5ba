//! Template experiments (H4) end to end: the team tests an apologetic answer to late parcels
//! against the usual one. Agents pick the usual template; each case gets a variant by a
//! stable draw, which the preview shows and the reply sends. Customers answered with the
//! apology are resolved, most of the others are not; the report counts each variant's cases
//! and outcomes and finds the resolution difference significant, with its p-value and
//! confidence interval.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, issue_key};
use reqwest::{Method, StatusCode};
use sb_outbound::OutboundConfig;
use sb_outbound::x::XConfig;
use serde_json::json;
use switchboard_web::WebhookConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENT: &str = "sb_exp_agent";
const LEAD: &str = "sb_exp_lead";
const ANALYST: &str = "sb_exp_analyst";

const WORKFLOW: &str = r#"
[[experiments]]
name = "late-parcel-tone"
template = "late_parcel"
variants = [
  { name = "usual", template = "late_parcel" },
  { name = "apology", template = "late_parcel_apology" },
]
"#;

async fn approved(app: &App, key: &str, body: &str) {
    let (s, v) = app
        .call(
            Method::POST,
            "/api/v1/templates",
            AGENT,
            Some(json!({"key": key, "locale": "en", "body": body})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let route = format!("/api/v1/templates/{key}/versions/{}/state", v["version"]);
    let (s, _) = app
        .call(
            Method::POST,
            &route,
            AGENT,
            Some(json!({"state": "pending_approval"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app
        .call(
            Method::POST,
            &route,
            LEAD,
            Some(json!({"state": "approved"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn each_case_gets_a_stable_variant_and_the_report_tests_the_difference() {
    // X itself is faked: the replies are queued for it and delivered to this stand-in.
    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "1"}})))
        .mount(&x)
        .await;
    let app = common::spawn_app_workflow(
        WebhookConfig::default(),
        OutboundConfig {
            x: Some(XConfig {
                base_url: x.uri(),
                ..XConfig::default()
            }),
            ..OutboundConfig::default()
        },
        WORKFLOW,
    )
    .await;
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, LEAD, "supervisor", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    approved(&app, "late_parcel", "Your parcel is on its way.").await;
    approved(
        &app,
        "late_parcel_apology",
        "We are truly sorry your parcel is late; it is on its way.",
    )
    .await;

    let (s, list) = app
        .call(Method::GET, "/api/v1/reports/experiments", ANALYST, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        list["items"][0]["variants"][1]["template"],
        "late_parcel_apology"
    );

    let mut by_variant: std::collections::HashMap<String, usize> = Default::default();
    for i in 0..40 {
        let (s, _, v) = app
            .post(json!({"source": "x", "external_id": format!("late-{i}"),
                         "author": format!("@buyer{i}"), "text": "Where is my parcel? It is late."}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let m = app.processed(v["id"].as_str().unwrap()).await;
        let case = m["case_id"].as_str().unwrap().to_owned();
        let expected = sb_analytics::experiments::assign(
            "late-parcel-tone",
            &case,
            &[("usual", 1), ("apology", 1)],
        )
        .unwrap();

        // The preview shows the variant the reply will send, every time.
        let route = format!("/api/v1/cases/{case}/render");
        let (s, preview) = app
            .call(
                Method::POST,
                &route,
                AGENT,
                Some(json!({"template": "late_parcel"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{preview}");
        assert_eq!(preview["experiment"]["variant"], expected, "{preview}");
        let apology = expected == "apology";
        assert_eq!(
            preview["key"],
            if apology {
                "late_parcel_apology"
            } else {
                "late_parcel"
            }
        );

        let route = format!("/api/v1/cases/{case}/replies");
        let (s, sent) = app
            .call(
                Method::POST,
                &route,
                AGENT,
                Some(json!({"template": {"key": "late_parcel"}})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{sent}");
        let (_, reply) = app
            .call(
                Method::GET,
                &format!("/api/v1/replies/{}", sent["reply_id"].as_str().unwrap()),
                AGENT,
                None,
            )
            .await;
        assert_eq!(
            reply["record"]["text"]
                .as_str()
                .unwrap()
                .starts_with("We are truly sorry"),
            apology,
            "{reply}"
        );
        assert_eq!(
            reply["record"]["experiment"]["variant"], expected,
            "{reply}"
        );

        // Apologised-to customers are all resolved; one in four of the others.
        let n = by_variant.entry(expected.to_owned()).or_default();
        *n += 1;
        if apology || (*n).is_multiple_of(4) {
            let (s, v) = app
                .call(
                    Method::PATCH,
                    &format!("/api/v1/cases/{case}"),
                    AGENT,
                    Some(json!({"status": "resolved"})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
    }
    let usual = by_variant["usual"];
    let apology = by_variant["apology"];
    assert!(
        usual >= 10 && apology >= 10,
        "both variants drawn: {by_variant:?}"
    );

    let (s, r) = app
        .call(
            Method::GET,
            "/api/v1/reports/experiments/late-parcel-tone",
            ANALYST,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["cases"], 40);
    assert_eq!(r["variants"][0]["name"], "usual");
    assert_eq!(r["variants"][0]["cases"], usual);
    assert_eq!(r["variants"][1]["cases"], apology);
    let resolved = &r["variants"][1]["outcomes"]["resolved"];
    assert_eq!(
        (resolved["successes"].as_u64(), resolved["trials"].as_u64()),
        (Some(apology as u64), Some(apology as u64))
    );
    assert_eq!(
        r["variants"][0]["outcomes"]["resolved"]["successes"],
        usual / 4
    );
    assert_eq!(
        r["variants"][0]["outcomes"]["replied"]["successes"], 0,
        "nobody wrote back"
    );
    let test = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["outcome"] == "resolved")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(test["variant"], "apology");
    assert_eq!(test["against"], "usual");
    assert!(test["p_value"].as_f64().unwrap() < 0.001, "{test}");
    assert_eq!(test["significant"], true);
    assert!(test["ci_low"].as_f64().unwrap() > 0.5, "{test}");

    let (s, e) = app
        .call(
            Method::GET,
            "/api/v1/reports/experiments/nope",
            ANALYST,
            None,
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("experiment_not_found"))
    );
    let (s, _) = app
        .call(
            Method::GET,
            "/api/v1/reports/experiments/late-parcel-tone",
            AGENT,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

const OUTAGE_WORKFLOW: &str = r#"
[[experiments]]
name = "outage-wording"
template = "outage_notice"
variants = [
  { name = "plain", template = "outage_notice" },
  { name = "sorry", template = "outage_notice_sorry", weight = 1 },
]
"#;

#[tokio::test]
async fn a_disruption_message_gives_each_case_its_variant_and_the_report_counts_them() {
    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"data": {"dm_conversation_id": "c-1", "dm_event_id": "e-1"}}),
            ),
        )
        .mount(&x)
        .await;
    let outbound: OutboundConfig = toml::from_str(&format!(
        "[x]\nbase_url = \"{}\"\ntokens = {{ brand = \"x-user-token\" }}\n",
        x.uri()
    ))
    .unwrap();
    let app = common::spawn_app_workflow(WebhookConfig::default(), outbound, OUTAGE_WORKFLOW).await;
    const OPS: &str = "sb_exp_ops";
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, LEAD, "supervisor", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, OPS, "operations", None).await;
    approved(&app, "outage_notice", "Our network is down in your area.").await;
    approved(
        &app,
        "outage_notice_sorry",
        "We are sorry: our network is down in your area.",
    )
    .await;
    let mut expected: std::collections::HashMap<String, &str> = Default::default();
    for i in 0..12 {
        let (s, _, v) = app
            .post(
                json!({"source": "x", "channel": "brand", "external_id": format!("o-{i}"),
                         "author": format!("@subscriber{i}"), "text": "Is the internet down?",
                         "region": "eu"}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let m = app.processed(v["id"].as_str().unwrap()).await;
        let case = m["case_id"].as_str().unwrap().to_owned();
        let variant = sb_analytics::experiments::assign(
            "outage-wording",
            &case,
            &[("plain", 1), ("sorry", 1)],
        )
        .unwrap();
        expected.insert(m["customer_id"].as_str().unwrap().to_owned(), variant);
    }
    let (s, inc) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            OPS,
            Some(json!({"title": "Network outage in eu", "severity": "error"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let route = format!(
        "/api/v1/incidents/{}/disruption",
        inc["id"].as_str().unwrap()
    );
    let (s, d) = app
        .call(
            Method::POST,
            &route,
            OPS,
            Some(json!({"template": "outage_notice", "segment": {"regions": ["eu"]}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let recipients = d["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 12, "{d}");
    for r in recipients {
        let variant = expected[r["customer_id"].as_str().unwrap()];
        let sorry = r["text"].as_str().unwrap().starts_with("We are sorry");
        assert_eq!(sorry, variant == "sorry", "{r}");
    }
    let route = format!("/api/v1/disruptions/{}/decision", d["id"].as_str().unwrap());
    let (s, done) = app
        .call(
            Method::POST,
            &route,
            LEAD,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");

    let (s, r) = app
        .call(
            Method::GET,
            "/api/v1/reports/experiments/outage-wording",
            ANALYST,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["cases"], 12, "{r}");
    let sorry = expected.values().filter(|v| **v == "sorry").count();
    assert_eq!(r["variants"][1]["name"], "sorry");
    assert_eq!(r["variants"][1]["cases"], sorry);
    assert_eq!(r["variants"][0]["cases"], 12 - sorry);
}
