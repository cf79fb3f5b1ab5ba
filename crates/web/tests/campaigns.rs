//! Capacity ahead of time (E7, F5): every Monday at 10:00 about 100 customers write in. Next
//! Monday a product launch is expected to double that from 10:00 to 11:00. With 14 agents
//! rostered (enough for 100 contacts of six minutes at 80/20), the plan warns of the launch
//! hour before it happens and names the campaign; a roster below the usual need is a surge
//! warning whatever the campaigns, and a schedule asking with `raise_alerts` turns the short
//! hour into one `capacity_shortfall` alert for operations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::StatusCode;
use sb_domain::Timestamp;
use serde_json::{Value, json};

const ANALYST: &str = "sb_test_analyst_al";
const AGENT: &str = "sb_test_agent_ana";
const OPS: &str = "sb_test_operations_oli";
const HOUR: i64 = 3_600_000;
const WEEK: i64 = 7 * 24 * HOUR;

async fn plan(app: &App, key: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/api/v1/campaigns/capacity", app.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// 100 contacts in the hour starting at `hour`, one and two weeks before it, all processed.
async fn history(app: &App, hour: i64, tag: &str) {
    let mut last = String::new();
    for w in 1..=2 {
        for i in 0..100 {
            let (s, _, v) = app
                .post(json!({"source": "x", "external_id": format!("{tag}{w}-{i}"), "author": format!("@{tag}{i}"),
                             "text": "Where is my order?", "created_at": Timestamp(hour - w * WEEK + i * 1_000).to_rfc3339()}))
                .await;
            assert_eq!(s, StatusCode::ACCEPTED, "{v}");
            last = v["id"].as_str().unwrap().to_owned();
        }
    }
    app.processed(&last).await;
}

/// The `capacity_shortfall` alerts stored so far, newest first.
async fn shortfalls(app: &App) -> Vec<Value> {
    let (_, alerts) = app.get("/api/v1/alerts").await;
    alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "capacity_shortfall")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_launch_that_doubles_contacts_warns_ahead_of_the_hour_and_a_thin_roster_is_a_surge() {
    let app = spawn_app().await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // A coming hour (the plan's first), a week ahead.
    let next = now - now.rem_euclid(HOUR) + WEEK;
    // Each of the last two weeks, 100 messages in that hour of the week.
    history(&app, next, "w").await;
    let body = json!({
        "from": Timestamp(next).to_rfc3339(), "hours": 2, "weeks": 2,
        "campaigns": [{"name": "X300 launch", "starts_at": Timestamp(next + HOUR).to_rfc3339(),
                       "ends_at": Timestamp(next + 2 * HOUR).to_rfc3339(), "expected_lift": 1.0}],
        "roster": [14],
        "handle_time_s": 360, "target_s": 20, "service_level": 0.8,
    });
    let (s, p) = plan(&app, ANALYST, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let h = p["hours"].as_array().unwrap();
    // The hour after the usual one has no history: only the usual hour carries contacts.
    assert_eq!(
        (h[0]["baseline"].as_f64(), h[0]["needed"].as_u64()),
        (Some(100.0), Some(14)),
        "{p}"
    );
    assert!(h[0]["warning"].is_null(), "{p}");
    assert_eq!(h[1]["campaigns"], json!(["X300 launch"]));
    assert_eq!(h[1]["baseline"], 0.0, "{p}");
    assert_eq!(
        (
            p["campaign_warnings"].as_u64(),
            p["surge_warnings"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // The launch in the busy hour: short because of the campaign.
    let mut launch = body.clone();
    launch["campaigns"][0]["starts_at"] = json!(Timestamp(next).to_rfc3339());
    let (_, p) = plan(&app, ANALYST, launch).await;
    let h0 = &p["hours"][0];
    assert_eq!(
        (h0["forecast"].as_f64(), h0["warning"].as_str()),
        (Some(200.0), Some("campaign")),
        "{p}"
    );
    assert!(h0["needed"].as_u64().unwrap() > 14);
    assert_eq!(p["campaign_warnings"], 1);

    // Ten heads cannot take even the usual Monday: a surge warning.
    let mut thin = body.clone();
    thin["roster"] = json!([10]);
    let (_, p) = plan(&app, ANALYST, thin.clone()).await;
    assert_eq!(p["hours"][0]["warning"], "surge", "{p}");
    assert_eq!(p["surge_warnings"], 1);
    assert_eq!(p["alerts_raised"], 0, "a plan alone raises nothing");

    // Asked by a schedule with `raise_alerts`, the short hour becomes one alert, once.
    let mut scheduled = thin.clone();
    scheduled["raise_alerts"] = json!(true);
    assert_eq!(
        plan(&app, ANALYST, scheduled.clone()).await.0,
        StatusCode::FORBIDDEN,
        "raising alerts needs alerts.manage"
    );
    issue_key(&app.store, OPS, "operations", None).await;
    let (s, p) = plan(&app, OPS, scheduled.clone()).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["alerts_raised"], 1, "{p}");
    assert_eq!(plan(&app, OPS, scheduled).await.1["alerts_raised"], 0);
    let raised = shortfalls(&app).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["series"], "capacity");
    assert_eq!(raised[0]["severity"], "critical", "a surge: {}", raised[0]);
    assert_eq!(raised[0]["bucket_start"], Timestamp(next).to_rfc3339());

    // Agents do not plan staffing; bad plans are refused with a reason.
    assert_eq!(
        plan(&app, AGENT, body.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    for (field, value, code) in [
        ("hours", json!(0), "invalid_field"),
        ("roster", json!([]), "invalid_field"),
        ("from", json!("monday"), "invalid_field"),
        ("weeks", json!(13), "invalid_field"),
        ("service_level", json!(1.5), "staffing_invalid_input"),
        ("handle_time_s", json!(-1), "staffing_invalid_input"),
    ] {
        let mut bad = body.clone();
        bad[field] = value;
        let (s, p) = plan(&app, ANALYST, bad).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{field}: {p}"
        );
    }
    let mut bad = body.clone();
    bad["campaigns"][0]["expected_lift"] = json!(-1);
    let (s, p) = plan(&app, ANALYST, bad).await;
    assert_eq!(
        (s, p["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("campaigns[0].expected_lift")
        )
    );
    let mut bad = body;
    bad["overtime"] = json!(true);
    assert_eq!(plan(&app, KEY, bad).await.0, StatusCode::BAD_REQUEST);
}

/// `serve`'s own check (`[staffing]`): with the roster by hour of the week from the
/// configuration, the coming hours are planned against the forecast and each short hour
/// raises one `capacity_shortfall` alert, however often the check runs; a well-staffed week
/// raises none.
#[tokio::test]
async fn the_configured_roster_is_checked_on_its_own_and_a_short_hour_alerts_once() {
    let app = spawn_app().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let this_hour = now - now.rem_euclid(HOUR);
    // The next hour, one and two weeks ago: 100 contacts each time.
    let next = this_hour + HOUR;
    history(&app, next, "s").await;

    let schedule = |heads: u32| -> switchboard_web::staffing::StaffingSchedule {
        toml::from_str(&format!(
            "week = [{row}, {row}, {row}, {row}, {row}, {row}, {row}]\n\
             handle_time_s = 360\ntarget_s = 20\nservice_level = 0.8\nweeks = 2\nhours_ahead = 3\n",
            row = format!("[{}]", vec![heads.to_string(); 24].join(", "))
        ))
        .unwrap()
    };
    let staffed = schedule(14);
    staffed.validate().unwrap();
    let at = Timestamp(now);
    assert_eq!(
        switchboard_web::staffing::check_capacity(&app.state, &staffed, at)
            .await
            .unwrap(),
        0,
        "14 heads take 100 contacts of six minutes at 80/20"
    );
    let thin = schedule(10);
    assert_eq!(
        switchboard_web::staffing::check_capacity(&app.state, &thin, at)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        switchboard_web::staffing::check_capacity(&app.state, &thin, at)
            .await
            .unwrap(),
        0,
        "the hour is alerted once"
    );
    let raised = shortfalls(&app).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["bucket_start"], Timestamp(next).to_rfc3339());
    assert_eq!(raised[0]["severity"], "critical");

    // A roster that is not seven days of 24 hours is refused before the first run.
    let mut bad = schedule(14);
    bad.week.pop();
    assert!(bad.validate().unwrap_err().contains("seven rows"));
    let mut bad = schedule(14);
    bad.service_level = 1.5;
    assert!(bad.validate().is_err());
}

#[test]
fn the_roster_is_read_by_utc_hour_of_a_monday_first_week() {
    let mut week = vec![vec![0u32; 24]; 7];
    week[0][9] = 5; // Monday 09:00
    week[6][23] = 7; // Sunday 23:00
    let s = switchboard_web::staffing::StaffingSchedule {
        week,
        ..toml::from_str::<switchboard_web::staffing::StaffingSchedule>(
            "week = []\nhandle_time_s = 1\ntarget_s = 1\nservice_level = 0.5\n",
        )
        .unwrap()
    };
    // 2026-11-30 was a Monday.
    let monday = Timestamp::parse_rfc3339("2026-11-30T09:00:00Z").unwrap();
    assert_eq!(s.rostered_at(monday.millis()), 5);
    assert_eq!(s.rostered_at(monday.millis() + 30 * 60_000), 5);
    let sunday = Timestamp::parse_rfc3339("2026-12-06T23:00:00Z").unwrap();
    assert_eq!(s.rostered_at(sunday.millis()), 7);
    assert_eq!(
        s.rostered_at(sunday.millis() + HOUR),
        0,
        "next Monday 00:00"
    );
}
