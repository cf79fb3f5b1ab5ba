//! Routing scenarios, grouped by the question a care lead would ask: which queue, which
//! agent, who goes next from the wait list, and what a bad config file says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod config;
mod queues;
mod waiting;

use super::*;

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

fn case(id: &str) -> RouteCase {
    RouteCase {
        case_id: id.to_owned(),
        language: None,
        region: None,
        intent: None,
        tier: Tier::Standard,
        priority: CasePriority::Normal,
        platform: Platform::Email,
        product: None,
        at: at("2026-11-23T09:00:00Z"),
        preferred_agent: None,
        high_value: false,
    }
}

fn router(toml_text: &str) -> Router {
    let config: RoutingConfig = toml::from_str(toml_text).unwrap();
    Router::from_config(&config).unwrap()
}

fn compile_err(toml_text: &str) -> RoutingError {
    let config: RoutingConfig = toml::from_str(toml_text).unwrap();
    Router::from_config(&config).unwrap_err()
}

fn online(state: &mut RoutingState, agents: &[&str]) {
    for a in agents {
        state.set_presence(a, Presence::Online);
    }
}

/// Picks and records the pick, as the pipeline does.
fn assign(router: &Router, queue: &str, case: &RouteCase, state: &mut RoutingState) -> String {
    let pick = router.pick_agent(queue, case, state).unwrap();
    state.assigned(&pick.agent_id, queue);
    pick.agent_id
}
