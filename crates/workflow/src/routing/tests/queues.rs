//! Which queue a case lands in: languages, regions, intents, tiers and local time windows.

use super::*;

const GERMAN_DESK: &str = r#"
[[queues]]
name = "de-night"
when = { languages = ["de"], time_zone = "Europe/Berlin", hours = ["22:00-06:00"] }

[[queues]]
name = "de-day"
when = { languages = ["de"] }

[[queues]]
name = "general"

[[agents]]
id = "jonas"
name = "Jonas"
queues = ["de-night"]
languages = ["de"]

[[agents]]
id = "mia"
name = "Mia"
queues = ["de-day", "general"]
languages = ["de", "en"]
"#;

fn german_vip_complaint(at_utc: &str) -> RouteCase {
    RouteCase {
        language: Some("de".into()),
        intent: Some("complaint".into()),
        tier: Tier::Vip,
        priority: CasePriority::High,
        at: at(at_utc),
        ..case("vip-1")
    }
}

#[test]
fn a_german_vip_complaint_at_23_00_berlin_goes_to_the_german_night_queue() {
    let r = router(GERMAN_DESK);
    // 22:00 UTC in November is 23:00 in Berlin (CET).
    let c = german_vip_complaint("2026-11-23T22:00:00Z");
    assert_eq!(r.queue_for(&c), Some("de-night"));

    let mut state = RoutingState::new();
    online(&mut state, &["jonas", "mia"]);
    let pick = r.pick_agent("de-night", &c, &state).unwrap();
    assert_eq!(pick.agent_id, "jonas");
}

#[test]
fn the_same_complaint_at_10_00_berlin_goes_to_the_german_day_queue() {
    let r = router(GERMAN_DESK);
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-11-23T09:00:00Z")),
        Some("de-day")
    );
}

#[test]
fn the_night_window_wraps_midnight_and_follows_summer_time() {
    let r = router(GERMAN_DESK);
    // 05:59 and 06:00 Berlin (CET): the window's end is exclusive.
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-11-24T04:59:00Z")),
        Some("de-night")
    );
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-11-24T05:00:00Z")),
        Some("de-day")
    );
    // 21:30 UTC in July is 23:30 in Berlin (CEST) — night; 21:30 UTC in November is 22:30 CET.
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-07-15T21:30:00Z")),
        Some("de-night")
    );
    // 20:30 UTC in July is 22:30 CEST (night) but 21:30 CET in November (day).
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-07-15T20:30:00Z")),
        Some("de-night")
    );
    assert_eq!(
        r.queue_for(&german_vip_complaint("2026-11-23T20:30:00Z")),
        Some("de-day")
    );
}

#[test]
fn austrian_german_counts_as_german_and_english_falls_through_to_general() {
    let r = router(GERMAN_DESK);
    let austrian = RouteCase {
        language: Some("de-AT".into()),
        ..case("c1")
    };
    assert_eq!(r.queue_for(&austrian), Some("de-day"));
    let english = RouteCase {
        language: Some("en".into()),
        ..case("c2")
    };
    assert_eq!(r.queue_for(&english), Some("general"));
    // A case whose language was not detected cannot meet a language condition.
    assert_eq!(r.queue_for(&case("c3")), Some("general"));
}

#[test]
fn no_queue_matches_when_every_queue_has_conditions() {
    let r = router(
        r#"
        [[queues]]
        name = "vip"
        when = { tiers = ["vip"], priorities = ["urgent", "high"], platforms = ["x", "instagram"] }
        [[agents]]
        id = "a"
        name = "A"
        queues = ["vip"]
        "#,
    );
    assert_eq!(r.queue_for(&case("c1")), None);
    let loud_vip = RouteCase {
        tier: Tier::Vip,
        priority: CasePriority::Urgent,
        platform: Platform::X,
        ..case("c2")
    };
    assert_eq!(r.queue_for(&loud_vip), Some("vip"));
    let quiet_vip = RouteCase {
        platform: Platform::Email,
        ..loud_vip
    };
    assert_eq!(r.queue_for(&quiet_vip), None);
}

#[test]
fn regional_routing_sends_dach_refund_requests_for_the_router_to_the_dach_desk() {
    let r = router(
        r#"
        [[queues]]
        name = "dach-refunds"
        required_skills = ["region:dach", "product:router-x"]
        when = { regions = ["DACH"], intents = ["refund"], products = ["router-x"] }

        [[queues]]
        name = "catch-all"

        [[agents]]
        id = "lena"
        name = "Lena"
        queues = ["dach-refunds", "catch-all"]
        regions = ["dach"]
        products = ["router-x"]

        [[agents]]
        id = "sam"
        name = "Sam"
        queues = ["dach-refunds", "catch-all"]
        regions = ["uk"]
        products = ["router-x"]

        [[agents]]
        id = "kim"
        name = "Kim"
        queues = ["dach-refunds", "catch-all"]
        "#,
    );
    let refund = RouteCase {
        region: Some("dach".into()),
        intent: Some("Refund".into()),
        product: Some("router-x".into()),
        ..case("c1")
    };
    assert_eq!(r.queue_for(&refund), Some("dach-refunds"));
    let other_region = RouteCase {
        region: Some("uk".into()),
        ..refund.clone()
    };
    assert_eq!(r.queue_for(&other_region), Some("catch-all"));

    // Only Lena holds both required skills; Kim's empty lists mean "any", which is no
    // qualification.
    let members: Vec<_> = r.members("dach-refunds").map(|a| a.id.as_str()).collect();
    assert_eq!(members, ["lena"]);
    let mut state = RoutingState::new();
    online(&mut state, &["lena", "sam", "kim"]);
    assert_eq!(assign(&r, "dach-refunds", &refund, &mut state), "lena");
    state.set_presence("lena", Presence::Away);
    assert_eq!(r.pick_agent("dach-refunds", &refund, &state), None);
}
