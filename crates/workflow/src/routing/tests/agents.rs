//! Which agent in a queue takes the case: round robin, least loaded, skills, sticky, teams.

use super::*;

const THREE_AGENTS: &str = r#"
[[queues]]
name = "support"
strategy = "STRATEGY"
sticky = STICKY

[[agents]]
id = "ana"
name = "Ana"
queues = ["support"]
capacity = 10

[[agents]]
id = "ben"
name = "Ben"
queues = ["support"]
capacity = 10

[[agents]]
id = "cleo"
name = "Cleo"
queues = ["support"]
capacity = 10
"#;

fn three_agents(strategy: &str, sticky: bool) -> Router {
    router(
        &THREE_AGENTS
            .replace("STRATEGY", strategy)
            .replace("STICKY", &sticky.to_string()),
    )
}

#[test]
fn round_robin_cycles_through_the_queue() {
    let r = three_agents("round_robin", false);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "ben", "cleo"]);
    let order: Vec<_> = (0..6)
        .map(|i| assign(&r, "support", &case(&format!("c{i}")), &mut state))
        .collect();
    assert_eq!(order, ["ana", "ben", "cleo", "ana", "ben", "cleo"]);
    assert_eq!(state.cursor("support"), Some("cleo"));
    assert_eq!(state.load("ana"), 2);
    let pick = r.pick_agent("support", &case("c6"), &state).unwrap();
    assert_eq!(pick.reason, PickReason::RoundRobin);
}

#[test]
fn round_robin_skips_offline_away_and_full_agents() {
    let r = three_agents("round_robin", false);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "cleo"]);
    state.set_presence("ben", Presence::Away);
    let order: Vec<_> = (0..4)
        .map(|i| assign(&r, "support", &case(&format!("c{i}")), &mut state))
        .collect();
    assert_eq!(order, ["ana", "cleo", "ana", "cleo"]);

    state.set_load("cleo", 10);
    assert_eq!(assign(&r, "support", &case("c4"), &mut state), "ana");
    assert_eq!(assign(&r, "support", &case("c5"), &mut state), "ana");
    state.set_presence("ana", Presence::Offline);
    assert_eq!(r.pick_agent("support", &case("c6"), &state), None);
}

#[test]
fn least_loaded_picks_the_lowest_share_of_capacity_not_the_fewest_cases() {
    let r = router(
        r#"
        [[queues]]
        name = "support"

        [[agents]]
        id = "junior"
        name = "Junior"
        queues = ["support"]
        capacity = 2

        [[agents]]
        id = "senior"
        name = "Senior"
        queues = ["support"]
        capacity = 10
        "#,
    );
    assert_eq!(r.strategy("support"), Some(Strategy::LeastLoaded));
    let mut state = RoutingState::new();
    online(&mut state, &["junior", "senior"]);
    state.set_load("junior", 1); // half full
    state.set_load("senior", 3); // 30 % full
    let pick = r.pick_agent("support", &case("c1"), &state).unwrap();
    assert_eq!(pick.agent_id, "senior");
    assert_eq!(pick.reason, PickReason::LeastLoaded);
}

#[test]
fn least_loaded_breaks_ties_in_round_robin_order() {
    let r = three_agents("least_loaded", false);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "ben", "cleo"]);
    let order: Vec<_> = (0..6)
        .map(|i| assign(&r, "support", &case(&format!("c{i}")), &mut state))
        .collect();
    assert_eq!(order, ["ana", "ben", "cleo", "ana", "ben", "cleo"]);
    // Ben closes a case: he is now the least loaded, whoever is next in rotation.
    state.released("ben");
    assert_eq!(assign(&r, "support", &case("c6"), &mut state), "ben");
}

const SKILLS_DESK: &str = r#"
[[queues]]
name = "europe"
strategy = "skills_based"

[[agents]]
id = "emma"
name = "Emma"
queues = ["europe"]
languages = ["en"]
regions = ["uk"]

[[agents]]
id = "dieter"
name = "Dieter"
queues = ["europe"]
languages = ["de"]
tiers = ["vip"]

[[agents]]
id = "flo"
name = "Flo"
queues = ["europe"]
"#;

#[test]
fn skills_based_prefers_the_agent_who_speaks_the_language() {
    let r = router(SKILLS_DESK);
    let mut state = RoutingState::new();
    online(&mut state, &["emma", "dieter", "flo"]);
    let german = RouteCase {
        language: Some("de-CH".into()),
        ..case("c1")
    };
    let pick = r.pick_agent("europe", &german, &state).unwrap();
    assert_eq!(pick.agent_id, "dieter");
    assert_eq!(pick.reason, PickReason::Skills);

    let english_uk = RouteCase {
        language: Some("en".into()),
        region: Some("UK".into()),
        ..case("c2")
    };
    assert_eq!(
        r.pick_agent("europe", &english_uk, &state)
            .unwrap()
            .agent_id,
        "emma"
    );

    // Nobody lists French: Flo, who takes any language, region and tier, beats the
    // specialists who list something else.
    let french = RouteCase {
        language: Some("fr".into()),
        ..case("c3")
    };
    assert_eq!(
        r.pick_agent("europe", &french, &state).unwrap().agent_id,
        "flo"
    );
}

#[test]
fn skills_based_sends_a_german_speaker_before_an_any_language_agent_and_falls_back_when_busy() {
    let r = router(SKILLS_DESK);
    let mut state = RoutingState::new();
    online(&mut state, &["emma", "dieter", "flo"]);
    let german_vip = RouteCase {
        language: Some("de".into()),
        tier: Tier::Vip,
        ..case("c1")
    };
    // Dieter is busier, but fit comes before load.
    state.set_load("dieter", 4);
    assert_eq!(
        r.pick_agent("europe", &german_vip, &state)
            .unwrap()
            .agent_id,
        "dieter"
    );
    // At capacity (default 5) he is skipped; Flo (any language) is next best.
    state.set_load("dieter", 5);
    assert_eq!(
        r.pick_agent("europe", &german_vip, &state)
            .unwrap()
            .agent_id,
        "flo"
    );
}

#[test]
fn skills_based_ties_go_to_the_less_loaded_agent() {
    let r = three_agents("skills_based", false);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "ben", "cleo"]);
    state.set_load("ana", 2);
    state.set_load("ben", 1);
    state.set_load("cleo", 2);
    assert_eq!(assign(&r, "support", &case("c1"), &mut state), "ben");
}

#[test]
fn sticky_queue_sends_a_repeat_customer_back_to_their_previous_agent() {
    let r = three_agents("least_loaded", true);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "ben", "cleo"]);
    state.set_load("cleo", 7);
    let repeat = RouteCase {
        preferred_agent: Some("cleo".into()),
        ..case("c1")
    };
    let pick = r.pick_agent("support", &repeat, &state).unwrap();
    assert_eq!(
        pick,
        Pick {
            agent_id: "cleo".into(),
            reason: PickReason::Sticky
        }
    );

    // Previous agent offline or full: the queue's strategy decides.
    state.set_presence("cleo", Presence::Offline);
    let pick = r.pick_agent("support", &repeat, &state).unwrap();
    assert_eq!(
        (pick.agent_id.as_str(), pick.reason),
        ("ana", PickReason::LeastLoaded)
    );
    state.set_presence("cleo", Presence::Online);
    state.set_load("cleo", 10);
    assert_eq!(
        r.pick_agent("support", &repeat, &state).unwrap().agent_id,
        "ana"
    );

    // A preferred agent who does not work this queue is ignored.
    let stranger = RouteCase {
        preferred_agent: Some("someone-else".into()),
        ..case("c2")
    };
    assert_eq!(
        r.pick_agent("support", &stranger, &state).unwrap().agent_id,
        "ana"
    );
}

#[test]
fn a_high_value_customer_keeps_their_account_manager_even_in_a_queue_that_is_not_sticky() {
    let r = three_agents("round_robin", false);
    let mut state = RoutingState::new();
    online(&mut state, &["ana", "ben", "cleo"]);
    let repeat = RouteCase {
        preferred_agent: Some("cleo".into()),
        ..case("c1")
    };
    assert_eq!(
        r.pick_agent("support", &repeat, &state).unwrap().agent_id,
        "ana"
    );
    let key_account = RouteCase {
        high_value: true,
        ..repeat
    };
    let pick = r.pick_agent("support", &key_account, &state).unwrap();
    assert_eq!(
        (pick.agent_id.as_str(), pick.reason),
        ("cleo", PickReason::Sticky)
    );
}

#[test]
fn a_team_staffs_its_queue_without_each_agent_listing_it() {
    let r = router(
        r#"
        [[queues]]
        name = "berlin-night"
        team = "berlin"

        [[agents]]
        id = "jonas"
        name = "Jonas"
        team = "berlin"

        [[agents]]
        id = "mia"
        name = "Mia"
        queues = ["berlin-night"]
        "#,
    );
    let members: Vec<_> = r.members("berlin-night").map(|a| a.id.as_str()).collect();
    assert_eq!(members, ["jonas", "mia"]);
    assert_eq!(r.agent("jonas").unwrap().queues, ["berlin-night"]);
    assert_eq!(r.agent("jonas").unwrap().capacity, 5);
    assert!(r.agent("nobody").is_none());
    assert_eq!(r.queues().collect::<Vec<_>>(), ["berlin-night"]);
}

#[test]
fn unknown_queue_and_agents_nobody_has_heard_of_are_not_routed_to() {
    let r = three_agents("round_robin", false);
    let state = RoutingState::new();
    assert_eq!(state.presence("ana"), Presence::Offline);
    assert_eq!(r.pick_agent("support", &case("c1"), &state), None);
    assert_eq!(r.pick_agent("no-such-queue", &case("c1"), &state), None);
}
